-- kpi_value: one row per KPI and fiscal year of the table's actual values
-- (実績値), with the status of the figure and the cell it came from.
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
    primary key (strategy_id, kpi_id, fiscal_year)
);
