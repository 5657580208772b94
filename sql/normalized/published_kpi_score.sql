-- published_kpi_score: one row per KPI and evaluated fiscal year of the scores
-- and marks as printed in a published table, kept apart from the recomputed
-- ones and never overwritten.
create table published_kpi_score (
    strategy_id varchar not null,
    kpi_id varchar not null,
    fiscal_year integer not null,
    published_raw_score decimal(18, 2),   -- 補正前スコア; null when printed as —
    published_score decimal(18, 2),       -- スコア
    published_band varchar,               -- from the mark × ● ○ ◎; null when none
    published_target_achieved boolean not null,  -- ☆ printed
    source_file varchar not null,
    source_line integer not null,
    primary key (strategy_id, kpi_id, fiscal_year)
);
