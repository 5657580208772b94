-- kpi_value: one row per KPI and fiscal year: the current actual value
-- (実績値), with the status of the figure and the cell it came from. Values
-- come from published tables and yearly submissions; when several sources
-- give one KPI and year a value, kpi_value_history keeps all of them.
create table kpi_value (
    strategy_id varchar not null,
    kpi_id varchar not null,
    fiscal_year integer not null,         -- 2019 for H31
    value decimal(18, 6),                 -- null unless value_status = 'reported'
    unit varchar,                         -- as written in this cell; null for a bare number
    value_status varchar not null,        -- 'reported' | 'missing' | 'undetermined' | 'to_be_reported'
    value_text varchar not null,          -- the cell as written
    source_file varchar not null,
    source_line integer not null,
    source_column integer not null,
    note varchar,
    source_sheet varchar,                 -- the workbook sheet; null for text files
    -- submissions: 'confirmed' (確定) | 'provisional' (速報) | 'undetermined' (未確定)
    -- | 'to_be_reported' (後日報告); null from a published table
    report_status varchar,
    comment varchar,                      -- 要因分析 from the submission
    submitted_by varchar,                 -- 提出者
    is_correction boolean,                -- marked 修正: it replaced an earlier value
    correction_reason varchar             -- 修正理由
    -- unique key (strategy_id, kpi_id, fiscal_year), checked by assets/normalized/kpi_tables.py after each write.
    -- It is not declared as a primary key, because DuckDB builds that index row by row on insert.
);
