-- submission_status: one row per KPI of the KPI master and fiscal year that
-- any submission file names: whether its department submitted it, so the
-- planning office sees who is missing (submission_state = 'missing').
create table submission_status (
    strategy_id varchar not null,
    fiscal_year integer not null,
    department varchar not null,          -- 担当課 from the master; '(担当課未設定)' when blank
    kpi_id varchar not null,
    kpi_name varchar not null,
    -- 'confirmed' | 'provisional' | 'undetermined' | 'to_be_reported' | 'published' | 'missing'
    submission_state varchar not null,
    source_file varchar,                  -- where the current value came from; null when missing
    source_line integer
    -- unique key (strategy_id, fiscal_year, kpi_id), checked by assets/normalized/kpi_tables.py after each write.
    -- It is not declared as a primary key, because DuckDB builds that index row by row on insert.
);
