-- kpi_expected_value: one row per KPI and fiscal year with an expected value
-- (期待値, 目安値) from the KPI master, the yardstick of the methods that judge
-- each year against an interim value instead of the final target.
create table kpi_expected_value (
    strategy_id varchar not null,
    kpi_id varchar not null,
    fiscal_year integer not null,
    expected_value decimal(18, 6) not null,
    expected_text varchar not null,   -- the cell as written
    source_file varchar not null,
    source_line integer not null,
    source_column varchar not null,   -- e.g. 'N 期待値(R2)'
    primary key (strategy_id, kpi_id, fiscal_year)
);
