-- kpi_unit: one row per KPI with its unit normalized: value_in_base_unit =
-- value x unit_factor, e.g. 万円 -> 円 x 10000, 千t -> t x 1000. A KPI without
-- a unit (a ratio such as a standardized mortality ratio) has unit_kind 'ratio'.
create or replace table kpi_unit (
    strategy_id varchar not null,
    kpi_id varchar not null,
    unit varchar,                   -- as written in the table, e.g. '万円'; null when none
    base_unit varchar,              -- e.g. '円'; null for a ratio or an unknown unit
    unit_factor decimal(18, 6),     -- null for an unknown unit
    unit_kind varchar,              -- 'count' | 'percent' | 'money' | 'quantity' | 'ratio'
    primary key (strategy_id, kpi_id)
);
