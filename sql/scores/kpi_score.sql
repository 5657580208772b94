-- kpi_score: one row per KPI and fiscal year with a reported actual value,
-- scored by the strategy's own evaluation method (evaluation_method,
-- score_band), beside the score the strategy published for that row.
--
-- The yardstick y is the value the actual is judged against:
--   final_target:   the target
--   expected_value: the KPI master's 期待値 for that fiscal year
--   linear_path:    baseline + (target - baseline) x k / K, where k = year -
--                   baseline year (at most K) and K = target year - baseline year
-- raw_score (補正前スコア) = n / d x 100, where for the formula
--   progress:    n = actual - baseline, d = y - baseline
--   achievement: n = actual,            d = y
--   inverse_achievement: n = y,         d = actual (↘ KPIs scored as a ratio)
--   maintain:    n = d (raw score 100) while |actual - y| <= maintain_tolerance,
--                else as achievement
-- score (スコア) is raw_score clamped to [clamp_min, clamp_max]. Both are
-- rounded once, at the end, to decimal_places. Bands follow the exact raw
-- score, or the score as shown when bands_judged_on = 'score';
-- target_achieved follows the exact raw score.
--
-- Baseline and target come from the definition in force in that year: the KPI
-- as first defined (version 0) or its latest revision effective by then
-- (kpi_revision). The original_* columns score the same actual on version 0,
-- so a revised year can be read on both bases.

with

kpis as (
    select * from kpi
),

revisions as (
    select * from kpi_revision
),

expected_values as (
    select * from kpi_expected_value
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

definitions as (
    select
        strategy_id,
        kpi_id,
        0 as definition_version,
        cast(null as integer) as effective_fiscal_year,
        baseline_fiscal_year,
        baseline_value,
        target_fiscal_year,
        target_value,
        cast(null as varchar) as revision_reason
    from kpis
    union all
    select
        strategy_id,
        kpi_id,
        revision_no as definition_version,
        effective_fiscal_year,
        baseline_fiscal_year,
        baseline_value,
        target_fiscal_year,
        target_value,
        reason as revision_reason
    from revisions
),

versions_in_force as (
    -- revision numbers rise with the effective year, so the highest effective
    -- version is the one in force
    select
        actual_values.strategy_id,
        actual_values.kpi_id,
        actual_values.fiscal_year,
        max(definitions.definition_version) as definition_version
    from actual_values
    inner join definitions
        on actual_values.strategy_id = definitions.strategy_id
        and actual_values.kpi_id = definitions.kpi_id
        -- version 0 has no effective year: it is in force from the start
        and coalesce(definitions.effective_fiscal_year, actual_values.fiscal_year)
        <= actual_values.fiscal_year
    group by all
),

scored_versions as (
    select * from versions_in_force
    union
    select
        strategy_id,
        kpi_id,
        fiscal_year,
        0 as definition_version
    from actual_values
),

scoring_inputs as (
    select
        actual_values.strategy_id,
        actual_values.kpi_id,
        actual_values.fiscal_year,
        scored_versions.definition_version,
        definitions.revision_reason,
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
        definitions.baseline_value,
        definitions.target_value,
        methods.yardstick,
        -- the linear path's position: k of K years from the baseline year
        cast(
            definitions.target_fiscal_year - definitions.baseline_fiscal_year as hugeint
        ) as path_years,
        cast(
            least(
                actual_values.fiscal_year - definitions.baseline_fiscal_year,
                definitions.target_fiscal_year - definitions.baseline_fiscal_year
            ) as hugeint
        ) as path_years_elapsed,
        expected_values.expected_value,
        methods.maintain_tolerance,
        methods.rounding,
        methods.decimal_places,
        -- 10^places: scores are counted in units of 10^-places until the end
        cast(10 ** methods.decimal_places as hugeint) as places_factor,
        methods.clamp_min,
        methods.clamp_max,
        methods.bands_judged_on,
        methods.target_achieved_threshold
    from scored_versions
    inner join actual_values
        on scored_versions.strategy_id = actual_values.strategy_id
        and scored_versions.kpi_id = actual_values.kpi_id
        and scored_versions.fiscal_year = actual_values.fiscal_year
    inner join definitions
        on scored_versions.strategy_id = definitions.strategy_id
        and scored_versions.kpi_id = definitions.kpi_id
        and scored_versions.definition_version = definitions.definition_version
    inner join kpis
        on actual_values.strategy_id = kpis.strategy_id
        and actual_values.kpi_id = kpis.kpi_id
    inner join methods
        on actual_values.strategy_id = methods.strategy_id
    left join expected_values
        on actual_values.strategy_id = expected_values.strategy_id
        and actual_values.kpi_id = expected_values.kpi_id
        and actual_values.fiscal_year = expected_values.fiscal_year
),

yardsticks as (
    -- the yardstick as an exact fraction y = yardstick_numerator / yardstick_denominator,
    -- the numerator in millionths
    select
        *,
        case yardstick
            when 'final_target' then millionths(target_value)
            when 'expected_value' then millionths(expected_value)
            when 'linear_path' then
                millionths(baseline_value) * path_years
                + millionths(target_value - baseline_value) * path_years_elapsed
        end as yardstick_numerator,
        case yardstick
            when 'linear_path' then path_years
            else 1
        end as yardstick_denominator
    from scoring_inputs
),

ratios as (
    select
        *,
        formula = 'maintain'
        and abs(millionths(actual_value) * yardstick_denominator - yardstick_numerator)
        <= millionths(maintain_tolerance) * yardstick_denominator as within_tolerance
    from yardsticks
),

fractions as (
    select
        *,
        case
            when within_tolerance then 1
            when formula = 'progress'
                then (millionths(actual_value) - millionths(baseline_value)) * yardstick_denominator
            when formula = 'inverse_achievement' then yardstick_numerator
            else millionths(actual_value) * yardstick_denominator
        end as numerator,
        case
            when within_tolerance then 1
            when formula = 'progress'
                then yardstick_numerator - millionths(baseline_value) * yardstick_denominator
            when formula = 'inverse_achievement' then millionths(actual_value) * yardstick_denominator
            else yardstick_numerator
        end as denominator
    from ratios
),

raw_scores as (
    select
        *,
        -- raw score x 10^places, rounded once: n x 100 x 10^places / d
        divide_rounded(numerator * 100 * places_factor, denominator, rounding) as raw_units,
        case
            when baseline_value is null then 'baseline_missing'
            when target_value is null then 'target_missing'
            when yardstick = 'expected_value' and expected_value is null then 'expected_value_missing'
            when yardstick = 'linear_path' and path_years <= 0 then 'target_year_not_after_baseline'
            when denominator = 0 and formula = 'progress' and yardstick = 'final_target'
                then 'target_equals_baseline'
            when denominator = 0 and formula = 'progress' then 'yardstick_equals_baseline'
            when denominator = 0 and formula = 'inverse_achievement' then 'actual_is_zero'
            when denominator = 0 and yardstick = 'final_target' then 'target_is_zero'
            when denominator = 0 then 'yardstick_is_zero'
        end as invalid_reason
    from fractions
),

clamped as (
    select
        *,
        -- clamp bounds are whole numbers, so clamping the rounded value equals
        -- rounding the clamped one; greatest() and least() skip nulls, hence the case
        case
            when raw_units is not null and invalid_reason is null then least(
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
        and (
            clamped.bands_judged_on = 'raw_score'
            and (bands.lower_bound is null or ratio_at_least(numerator, denominator, bands.lower_bound))
            and (bands.upper_bound is null or not ratio_at_least(numerator, denominator, bands.upper_bound))
            -- the score as shown, in units of 10^-places, against a bound with 4 places
            or clamped.bands_judged_on = 'score'
            and (bands.lower_bound is null
                or clamped.score_units * 10000 >= cast(bands.lower_bound * 10000 as hugeint) * places_factor)
            and (bands.upper_bound is null
                or clamped.score_units * 10000 < cast(bands.upper_bound * 10000 as hugeint) * places_factor)
        )
),

scored as (
    select
        *,
        to_score(case when invalid_reason is null then raw_units end, decimal_places) as raw_score,
        to_score(score_units, decimal_places) as score,
        case when invalid_reason is null then target_achieved end as target_achieved_checked,
        -- the yardstick for people, rounded half up to 6 places (a linear path can be a repeating decimal)
        cast(
            cast(divide_rounded(yardstick_numerator, yardstick_denominator, 'half_up') as decimal(38, 0))
            * 0.000001 as decimal(18, 6)
        ) as yardstick_value
    from banded
),

in_force as (
    select scored.*
    from scored
    inner join versions_in_force
        on scored.strategy_id = versions_in_force.strategy_id
        and scored.kpi_id = versions_in_force.kpi_id
        and scored.fiscal_year = versions_in_force.fiscal_year
        and scored.definition_version = versions_in_force.definition_version
),

original as (
    select * from scored
    where definition_version = 0
),

final as (
    select
        in_force.strategy_id,
        in_force.kpi_id,
        in_force.fiscal_year,
        in_force.project_no,
        in_force.business_no,
        in_force.direction,
        in_force.formula,
        in_force.evaluated,
        in_force.actual_value,
        in_force.baseline_value,
        in_force.target_value,
        in_force.raw_score,
        in_force.score,
        in_force.band,
        in_force.band_label_ja,
        in_force.band_mark,
        in_force.target_achieved_checked as target_achieved,
        in_force.invalid_reason,
        published.published_raw_score,
        published.published_score,
        published.published_band,
        published.published_target_achieved,
        in_force.yardstick,
        in_force.yardstick_value,
        cast(in_force.definition_version as integer) as definition_version,
        in_force.revision_reason,
        original.raw_score as original_raw_score,
        original.score as original_score,
        original.band as original_band,
        original.target_achieved_checked as original_target_achieved
    from in_force
    inner join original
        on in_force.strategy_id = original.strategy_id
        and in_force.kpi_id = original.kpi_id
        and in_force.fiscal_year = original.fiscal_year
    left join published
        on in_force.strategy_id = published.strategy_id
        and in_force.kpi_id = published.kpi_id
        and in_force.fiscal_year = published.fiscal_year
)

select * from final
order by strategy_id, kpi_id, fiscal_year
