-- evaluation_method: one row per strategy with the parameters of its scoring
-- method, so the score SQL reads them as data instead of constants
-- (evaluation/methods.py reads them from strategy.toml; docs/methods.md).
create table evaluation_method (
    strategy_id varchar primary key,
    formula_up varchar not null,        -- 'progress' | 'achievement' | 'inverse_achievement'
    formula_down varchar not null,
    formula_maintain varchar not null,  -- also 'maintain'
    clamp_min decimal(18, 4),           -- null: no lower clamp
    clamp_max decimal(18, 4),           -- null: no upper clamp
    rounding varchar not null,          -- 'half_up' (四捨五入) | 'truncate' (切り捨て)
    decimal_places integer not null,    -- places shown in the published report
    average_of varchar not null,        -- 'rounded_scores': mean of the scores as shown
    target_achieved_threshold decimal(18, 4) not null,  -- raw score >= this is 目標達成
    target_achieved_mark varchar not null,
    maintain_tolerance decimal(18, 6) not null,  -- in the KPI's unit; 0 without tolerance
    yardstick varchar not null,         -- 'final_target' | 'expected_value' | 'linear_path'
    average_rounding varchar not null,  -- rounding of the project average
    average_decimal_places integer not null,
    rollup varchar not null,            -- 'mean' | 'band_counts' (no average)
    bands_judged_on varchar not null    -- 'raw_score' (exact) | 'score' (clamped, as shown)
);
