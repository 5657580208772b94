-- kpi: one row per KPI (施策KPI) of a strategy: its project and business, unit,
-- direction, baseline and target, and whether it is evaluated (集計対象).
create table kpi (
    strategy_id varchar not null,
    kpi_id varchar not null,              -- business No. and position, e.g. '005-2'
    project_no integer not null,
    project_name varchar not null,
    business_no integer not null,
    business_name varchar not null,
    business_summary varchar,             -- 事業概要
    kpi_seq integer not null,             -- 1 for the business's first KPI
    kpi_name varchar not null,
    unit varchar,                         -- as written: '件', '%', '万円'; null when none
    direction varchar not null,           -- 'up' (↗) | 'down' (↘) | 'maintain' (→)
    cumulative boolean not null,          -- 累計 in the KPI name
    baseline_fiscal_year integer not null,
    baseline_value decimal(18, 6),
    baseline_text varchar not null,       -- the cell as written, e.g. '1,199件'
    target_fiscal_year integer not null,
    target_value decimal(18, 6),
    target_text varchar not null,
    evaluated boolean not null,           -- false when excluded (KPI master or strategy.toml)
    exclusion_reason varchar,
    source_file varchar not null,
    source_line integer not null,
    notes varchar,                        -- quirks met while reading the row
    department varchar,                   -- 担当課 from the KPI master; null from a published table
    primary key (strategy_id, kpi_id)
);
