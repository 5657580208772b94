-- published_summary: one row per project summary line of a published table,
-- as printed: (集計対象 N事業[NKPI]／全 N事業[NKPI]) 平均スコア and band counts.
create table published_summary (
    strategy_id varchar not null,
    project_no integer not null,
    fiscal_year integer not null,
    businesses_evaluated integer not null,
    kpis_evaluated integer not null,
    businesses_total integer not null,
    kpis_total integer not null,
    average_score decimal(18, 2) not null,
    below_baseline_count integer not null,
    band_0_50_count integer not null,
    band_50_100_count integer not null,
    band_100_plus_count integer not null,
    target_achieved_count integer not null,
    source_file varchar not null,
    source_line integer not null,
    primary key (strategy_id, project_no, fiscal_year)
);
