-- kpi_outlook: early warning (早期警戒). One row per KPI and as-of fiscal
-- year of the strategy period: where the KPI should be on a straight path
-- from baseline to target, where its linear trend puts it in the target year,
-- and a status.
--
-- Trend: ordinary least squares over the reported actuals up to the as-of
-- year (x = fiscal year, y = value); at least two actuals are needed.
-- Path: baseline + (target - baseline) x (year - baseline year) / (target
-- year - baseline year), or the KPI master's expected value (期待値) for that
-- year when the method's yardstick is 'expected_value'.
-- Both are measured with the strategy's own formula (progress or
-- achievement) so they read as scores:
--   on_track  (順調):     latest actual at or above the path, trend reaches the target
--   behind    (遅れ):     one of the two falls short
--   unlikely  (達成困難): both fall short
--   not_enough_data (データ不足): fewer than two actuals so far
-- All arithmetic is on integers scaled from DECIMAL(18, 6), as in kpi_score
-- (DuckDB's ^ returns DOUBLE, so squares are written as products).
-- Baseline and target are those in force in the as-of year: the latest
-- revision (kpi_revision) effective by then, else the KPI as first defined.

with

kpis as (
    select * from kpi
),

methods as (
    select * from evaluation_method
),

strategies as (
    select * from strategy
),

actual_values as (
    select * from kpi_value
    where value_status = 'reported'
),

revisions as (
    select * from kpi_revision
),

expected_values as (
    select * from kpi_expected_value
),

kpi_years as (
    select
        kpis.strategy_id,
        kpis.kpi_id,
        kpis.direction,
        kpis.evaluated,
        kpis.baseline_fiscal_year,
        kpis.target_fiscal_year,
        kpis.baseline_value,
        kpis.target_value,
        -- inverse_achievement (target / actual) rises as the value falls, so the
        -- straight-path comparison below measures it as progress instead
        case kpis.direction
            when 'up' then methods.formula_up
            when 'down' then replace(methods.formula_down, 'inverse_achievement', 'progress')
            when 'maintain' then methods.formula_maintain
        end as formula,
        methods.yardstick,
        unnest(range(strategies.first_fiscal_year, strategies.last_fiscal_year + 1)) as as_of_fiscal_year
    from kpis
    inner join strategies
        on kpis.strategy_id = strategies.strategy_id
    inner join methods
        on kpis.strategy_id = methods.strategy_id
),

revisions_in_force as (
    select
        kpi_years.strategy_id,
        kpi_years.kpi_id,
        kpi_years.as_of_fiscal_year,
        arg_max(revisions.baseline_fiscal_year, revisions.revision_no) as baseline_fiscal_year,
        arg_max(revisions.baseline_value, revisions.revision_no) as baseline_value,
        arg_max(revisions.target_fiscal_year, revisions.revision_no) as target_fiscal_year,
        arg_max(revisions.target_value, revisions.revision_no) as target_value
    from kpi_years
    inner join revisions
        on kpi_years.strategy_id = revisions.strategy_id
        and kpi_years.kpi_id = revisions.kpi_id
        and revisions.effective_fiscal_year <= kpi_years.as_of_fiscal_year
    group by all
),

as_of_years as (
    select
        kpi_years.strategy_id,
        kpi_years.kpi_id,
        kpi_years.direction,
        kpi_years.evaluated,
        coalesce(revisions_in_force.baseline_fiscal_year, kpi_years.baseline_fiscal_year) as baseline_fiscal_year,
        coalesce(revisions_in_force.target_fiscal_year, kpi_years.target_fiscal_year) as target_fiscal_year,
        -- a revision's values are complete, so its null baseline is a baseline without a figure
        case
            when revisions_in_force.kpi_id is not null then revisions_in_force.baseline_value
            else kpi_years.baseline_value
        end as baseline_value,
        case
            when revisions_in_force.kpi_id is not null then revisions_in_force.target_value
            else kpi_years.target_value
        end as target_value,
        kpi_years.formula,
        kpi_years.yardstick,
        kpi_years.as_of_fiscal_year
    from kpi_years
    left join revisions_in_force
        on kpi_years.strategy_id = revisions_in_force.strategy_id
        and kpi_years.kpi_id = revisions_in_force.kpi_id
        and kpi_years.as_of_fiscal_year = revisions_in_force.as_of_fiscal_year
),

trend_sums as (
    -- x is counted from the baseline year so the sums stay small integers
    select
        as_of_years.strategy_id,
        as_of_years.kpi_id,
        as_of_years.as_of_fiscal_year,
        count(actual_values.value) as actuals_used,
        max(actual_values.fiscal_year) as latest_fiscal_year,
        arg_max(actual_values.value, actual_values.fiscal_year) as latest_value,
        sum(cast(actual_values.fiscal_year - as_of_years.baseline_fiscal_year as hugeint)) as sum_x,
        sum(
            cast(actual_values.fiscal_year - as_of_years.baseline_fiscal_year as hugeint)
            * cast(actual_values.fiscal_year - as_of_years.baseline_fiscal_year as hugeint)
        ) as sum_xx,
        sum(millionths(actual_values.value)) as sum_y,
        sum(
            cast(actual_values.fiscal_year - as_of_years.baseline_fiscal_year as hugeint)
            * millionths(actual_values.value)
        ) as sum_xy
    from as_of_years
    left join actual_values
        on as_of_years.strategy_id = actual_values.strategy_id
        and as_of_years.kpi_id = actual_values.kpi_id
        and actual_values.fiscal_year <= as_of_years.as_of_fiscal_year
    group by all
),

projections as (
    select
        as_of_years.*,
        trend_sums.actuals_used,
        trend_sums.latest_fiscal_year,
        trend_sums.latest_value,
        -- value at x = X from the least-squares line, in millionths:
        -- (sum_y x D + (n sum_xy - sum_x sum_y)(n X - sum_x)) / (n x D),
        -- where D = n sum_xx - sum_x sum_x and X = target year - baseline year
        case
            when trend_sums.actuals_used >= 2 then divide_rounded(
                trend_sums.sum_y * (trend_sums.actuals_used * trend_sums.sum_xx - trend_sums.sum_x * trend_sums.sum_x)
                + (trend_sums.actuals_used * trend_sums.sum_xy - trend_sums.sum_x * trend_sums.sum_y)
                * (trend_sums.actuals_used
                    * cast(as_of_years.target_fiscal_year - as_of_years.baseline_fiscal_year as hugeint)
                    - trend_sums.sum_x),
                trend_sums.actuals_used
                * (trend_sums.actuals_used * trend_sums.sum_xx - trend_sums.sum_x * trend_sums.sum_x),
                'half_up'
            )
        end as projected_millionths,
        -- the expected value at the latest actual's year, in millionths: the
        -- master's 期待値 for a method judging against it, else the straight path
        case
            when as_of_years.yardstick = 'expected_value' and expected_values.expected_value is not null
                then millionths(expected_values.expected_value)
            when trend_sums.latest_fiscal_year is not null then millionths(as_of_years.baseline_value)
                + divide_rounded(
                    millionths(as_of_years.target_value - as_of_years.baseline_value)
                    * (trend_sums.latest_fiscal_year - as_of_years.baseline_fiscal_year),
                    cast(as_of_years.target_fiscal_year - as_of_years.baseline_fiscal_year as hugeint),
                    'half_up'
                )
        end as expected_millionths
    from as_of_years
    inner join trend_sums
        on as_of_years.strategy_id = trend_sums.strategy_id
        and as_of_years.kpi_id = trend_sums.kpi_id
        and as_of_years.as_of_fiscal_year = trend_sums.as_of_fiscal_year
    left join expected_values
        on as_of_years.strategy_id = expected_values.strategy_id
        and as_of_years.kpi_id = expected_values.kpi_id
        and trend_sums.latest_fiscal_year = expected_values.fiscal_year
),

measured as (
    -- each value as a score with the KPI's formula, in hundredths:
    -- progress (v - baseline) / (target - baseline), achievement v / target
    select
        *,
        case when formula = 'progress' then millionths(baseline_value) else 0 end as origin,
        millionths(target_value) - case when formula = 'progress' then millionths(baseline_value) else 0 end
            as span
    from projections
),

scored as (
    select
        *,
        divide_rounded((millionths(latest_value) - origin) * 10000, span, 'half_up') as latest_hundredths,
        divide_rounded((expected_millionths - origin) * 10000, span, 'half_up') as expected_hundredths,
        divide_rounded((projected_millionths - origin) * 10000, span, 'half_up') as projected_hundredths
    from measured
),

final as (
    select
        strategy_id,
        kpi_id,
        cast(as_of_fiscal_year as integer) as as_of_fiscal_year,
        evaluated,
        cast(actuals_used as integer) as actuals_used,
        latest_fiscal_year,
        latest_value,
        cast(cast(expected_millionths as decimal(38, 0)) * 0.000001 as decimal(18, 6)) as expected_value,
        cast(cast(projected_millionths as decimal(38, 0)) * 0.000001 as decimal(18, 6)) as projected_value,
        to_score(latest_hundredths, 2) as latest_progress,
        to_score(expected_hundredths, 2) as expected_progress,
        to_score(projected_hundredths, 2) as projected_progress,
        case
            when actuals_used < 2 or span = 0 or span is null then 'not_enough_data'
            when latest_hundredths >= expected_hundredths and projected_hundredths >= 10000 then 'on_track'
            when latest_hundredths < expected_hundredths and projected_hundredths < 10000 then 'unlikely'
            else 'behind'
        end as outlook_status
    from scored
)

select
    final.*,
    case final.outlook_status
        when 'on_track' then '順調'
        when 'behind' then '遅れ'
        when 'unlikely' then '達成困難'
        else 'データ不足'
    end as outlook_label_ja
from final
order by strategy_id, kpi_id, as_of_fiscal_year
