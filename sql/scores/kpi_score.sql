-- kpi_score: one row per KPI and fiscal year with a reported actual value,
-- scored by the strategy's own evaluation method (evaluation_method,
-- score_band), beside the score the strategy published for that row.
--
-- raw_score (補正前スコア) = n / d x 100, where for the formula
--   progress:    n = actual - baseline, d = target - baseline
--   achievement: n = actual,            d = target
-- score (スコア) is raw_score clamped to [clamp_min, clamp_max]. Both are
-- rounded once, at the end, to decimal_places. Bands and target_achieved are
-- judged on the exact raw score, before rounding.

with

kpis as (
    select * from kpi
),

actual_values as (
    select * from kpi_value
    where value_status = 'reported'
),

methods as (
    select * from evaluation_method
),

bands as (
    select * from score_band
),

published as (
    select * from published_kpi_score
),

scoring_inputs as (
    select
        actual_values.strategy_id,
        actual_values.kpi_id,
        actual_values.fiscal_year,
        kpis.project_no,
        kpis.business_no,
        kpis.direction,
        kpis.evaluated,
        case kpis.direction
            when 'up' then methods.formula_up
            when 'down' then methods.formula_down
            when 'maintain' then methods.formula_maintain
        end as formula,
        actual_values.value as actual_value,
        kpis.baseline_value,
        kpis.target_value,
        methods.rounding,
        methods.decimal_places,
        -- 10^places: scores are counted in units of 10^-places until the end
        cast(10 ** methods.decimal_places as hugeint) as places_factor,
        methods.clamp_min,
        methods.clamp_max,
        methods.target_achieved_threshold
    from actual_values
    inner join kpis
        on actual_values.strategy_id = kpis.strategy_id
        and actual_values.kpi_id = kpis.kpi_id
    inner join methods
        on actual_values.strategy_id = methods.strategy_id
),

ratios as (
    select
        *,
        millionths(
            case formula when 'progress' then actual_value - baseline_value else actual_value end
        ) as numerator,
        millionths(
            case formula when 'progress' then target_value - baseline_value else target_value end
        ) as denominator
    from scoring_inputs
),

raw_scores as (
    select
        *,
        -- raw score x 10^places, rounded once: n x 100 x 10^places / d
        divide_rounded(numerator * 100 * places_factor, denominator, rounding) as raw_units,
        case
            when baseline_value is null then 'baseline_missing'
            when target_value is null then 'target_missing'
            when denominator = 0 and formula = 'progress' then 'target_equals_baseline'
            when denominator = 0 then 'target_is_zero'
        end as invalid_reason
    from ratios
),

clamped as (
    select
        *,
        -- clamp bounds are whole numbers, so clamping the rounded value equals
        -- rounding the clamped one; greatest() and least() skip nulls, hence the case
        case
            when raw_units is not null then least(
                greatest(raw_units, coalesce(cast(clamp_min as hugeint) * places_factor, raw_units)),
                coalesce(cast(clamp_max as hugeint) * places_factor, raw_units)
            )
        end as score_units
    from raw_scores
),

banded as (
    select
        clamped.*,
        bands.band,
        bands.label_ja as band_label_ja,
        bands.mark as band_mark,
        ratio_at_least(numerator, denominator, target_achieved_threshold) as target_achieved
    from clamped
    left join bands
        on clamped.strategy_id = bands.strategy_id
        and clamped.invalid_reason is null
        and (bands.lower_bound is null or ratio_at_least(numerator, denominator, bands.lower_bound))
        and (bands.upper_bound is null or not ratio_at_least(numerator, denominator, bands.upper_bound))
),

final as (
    select
        banded.strategy_id,
        banded.kpi_id,
        banded.fiscal_year,
        banded.project_no,
        banded.business_no,
        banded.direction,
        banded.formula,
        banded.evaluated,
        banded.actual_value,
        banded.baseline_value,
        banded.target_value,
        to_score(banded.raw_units, banded.decimal_places) as raw_score,
        to_score(banded.score_units, banded.decimal_places) as score,
        banded.band,
        banded.band_label_ja,
        banded.band_mark,
        case when banded.invalid_reason is null then banded.target_achieved end as target_achieved,
        banded.invalid_reason,
        published.published_raw_score,
        published.published_score,
        published.published_band,
        published.published_target_achieved
    from banded
    left join published
        on banded.strategy_id = published.strategy_id
        and banded.kpi_id = published.kpi_id
        and banded.fiscal_year = published.fiscal_year
)

select * from final
order by strategy_id, kpi_id, fiscal_year
