-- source_file: one row per input file read by a refresh, with the format
-- recognized from its content and its SHA-256, so any figure can be traced to
-- the exact file it came from.
create table source_file (
    strategy_id varchar not null,
    source_file varchar not null,  -- path relative to the input folder (KPI_RAW_DIR)
    file_format varchar not null,  -- 'published_table' | 'kpi_master' | 'submission' | 'kpi_revision'
    encoding varchar,              -- 'utf-8', 'utf-8-sig' or 'cp932'
    size_bytes bigint not null,
    sha256 varchar not null,
    primary key (strategy_id, source_file)
);
