-- kpi_revision: one row per revision of a KPI's baseline or target (a target
-- raised mid-plan, a baseline rebased after statistics were revised). The KPI
-- as first defined (table kpi) is version 0; revision n is in force from its
-- effective fiscal year until the next one. Values are complete: a revision
-- that changes only the target repeats the baseline in force before it.
create table kpi_revision (
    strategy_id varchar not null,
    kpi_id varchar not null,
    revision_no integer not null,          -- 1, 2, … in order of effective year
    effective_fiscal_year integer not null,
    baseline_fiscal_year integer not null,
    baseline_value decimal(18, 6),
    target_fiscal_year integer not null,
    target_value decimal(18, 6),
    reason varchar not null,
    source_file varchar not null,
    source_line integer not null,
    primary key (strategy_id, kpi_id, revision_no)
);
