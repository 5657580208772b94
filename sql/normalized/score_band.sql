-- score_band: one row per strategy and band; a raw score falls in the band
-- when lower_bound <= raw_score < upper_bound (a null bound is unbounded).
create table score_band (
    strategy_id varchar not null,
    band varchar not null,          -- 'below_baseline' | '0-50' | '50-100' | '100+' for Otaru
    band_order integer not null,    -- 1 for the lowest band
    label_ja varchar not null,      -- 基準未満, 0~50, 50~100, 100以上
    mark varchar not null,          -- × ● ○ ◎
    lower_bound decimal(18, 4),
    upper_bound decimal(18, 4),
    primary key (strategy_id, band)
);
