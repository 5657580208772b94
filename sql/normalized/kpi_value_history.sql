-- kpi_value_history: one row per value ever given for a KPI and fiscal year,
-- from every published table and submission, numbered in reading order. The
-- row with is_current = true is the one kpi_value holds; the others stay on
-- record with the rule that set them aside.
create table kpi_value_history (
    strategy_id varchar not null,
    kpi_id varchar not null,
    fiscal_year integer not null,
    revision integer not null,            -- 1 for the first value read (published tables first)
    value decimal(18, 6),
    unit varchar,
    value_status varchar not null,        -- as in kpi_value
    value_text varchar not null,
    report_status varchar,                -- as in kpi_value
    comment varchar,
    submitted_by varchar,
    is_correction boolean not null,       -- marked 修正
    correction_reason varchar,
    is_current boolean not null,          -- this row is the one in kpi_value
    -- why this row is or is not current: 'only' | 'same_value' | 'correction' | 'corrected'
    -- | 'final_over_provisional' | 'provisional_replaced'
    resolution varchar not null,
    source_file varchar not null,
    source_sheet varchar,
    source_line integer not null,
    source_column integer not null,
    source_cell varchar not null,         -- the cell as messages name it: 'a.xlsx [実績報告] K7'
    note varchar
    -- unique key (strategy_id, kpi_id, fiscal_year, revision), checked by assets/normalized/kpi_tables.py after each write.
    -- It is not declared as a primary key, because DuckDB builds that index row by row on insert.
);
