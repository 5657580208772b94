-- project_summary: one row per strategy, project, fiscal year and basis.
--   basis 'computed':  the scores this pipeline recomputed (kpi_score), for
--                      every fiscal year of the strategy period;
--   basis 'original':  the same, on the baselines and targets as first
--                      defined (kpi_score.original_*), only for strategies
--                      with a revision (kpi_revision);
--   basis 'published': the scores as printed in the published table
--                      (published_kpi_score), only for years that have them.
-- A KPI counts as evaluated (集計対象) when it is not excluded on purpose and
-- has a score in that year. average_score is the mean of the evaluated KPIs'
-- scores as shown (rounded), rounded once more by the method's
-- average_rounding to average_decimal_places; null when the method's rollup is
-- 'band_counts'. Bands and target_achieved follow kpi_score on the computed
-- bases and the raw score on the published basis. The four band columns are
-- Otaru's band ids, null for a method without that band; every method's bands
-- are counted in project_band_count. The outlook columns count the evaluated
-- KPIs' kpi_outlook status as of that fiscal year, on every basis.

with

kpis as (
    select * from kpi
),

methods as (
    select * from evaluation_method
),

bands as (
    select * from score_band
),

strategies as (
    select * from strategy
),

outlooks as (
    select * from kpi_outlook
),

revised_strategies as (
    select distinct strategy_id from kpi_revision
),

project_totals as (
    select
        strategy_id,
        project_no,
        any_value(project_name) as project_name,
        count(distinct business_no) as businesses_total,
        count(*) as kpis_total
    from kpis
    group by strategy_id, project_no
),

computed_scores as (
    select
        kpi_score.strategy_id,
        kpi_score.project_no,
        kpi_score.fiscal_year,
        'computed' as basis,
        kpi_score.business_no,
        kpi_score.score,
        kpi_score.band,
        kpi_score.target_achieved
    from kpi_score
    where kpi_score.evaluated
        and kpi_score.score is not null
),

original_scores as (
    select
        kpi_score.strategy_id,
        kpi_score.project_no,
        kpi_score.fiscal_year,
        'original' as basis,
        kpi_score.business_no,
        kpi_score.original_score as score,
        kpi_score.original_band as band,
        kpi_score.original_target_achieved as target_achieved
    from kpi_score
    inner join revised_strategies
        on kpi_score.strategy_id = revised_strategies.strategy_id
    where kpi_score.evaluated
        and kpi_score.original_score is not null
),

published_judged as (
    -- the printed score that sets the band: the raw score, or the score as
    -- shown for a method with bands_judged_on = 'score'
    select
        published_kpi_score.*,
        case
            when methods.bands_judged_on = 'score' then published_kpi_score.published_score
            else published_kpi_score.published_raw_score
        end as published_judged_score
    from published_kpi_score
    inner join methods
        on published_kpi_score.strategy_id = methods.strategy_id
),

published_scores as (
    select
        published_kpi_score.strategy_id,
        kpis.project_no,
        published_kpi_score.fiscal_year,
        'published' as basis,
        kpis.business_no,
        published_kpi_score.published_score as score,
        bands.band,
        published_kpi_score.published_raw_score >= methods.target_achieved_threshold
            as target_achieved
    from published_judged as published_kpi_score
    inner join kpis
        on published_kpi_score.strategy_id = kpis.strategy_id
        and published_kpi_score.kpi_id = kpis.kpi_id
    inner join methods
        on published_kpi_score.strategy_id = methods.strategy_id
    left join bands
        on published_kpi_score.strategy_id = bands.strategy_id
        -- the printed raw score, or the printed score when the method bands the score as shown
        and (bands.lower_bound is null or published_kpi_score.published_judged_score >= bands.lower_bound)
        and (bands.upper_bound is null or published_kpi_score.published_judged_score < bands.upper_bound)
    where published_kpi_score.published_score is not null
),

evaluated_scores as (
    select * from computed_scores
    union all
    select * from original_scores
    union all
    select * from published_scores
),

computed_years as (
    -- every fiscal year of the strategy period gets a computed line, even one
    -- without any evaluated KPI
    select
        strategies.strategy_id,
        unnest(range(strategies.first_fiscal_year, strategies.last_fiscal_year + 1))
            as fiscal_year,
        'computed' as basis
    from strategies
),

original_years as (
    select
        computed_years.strategy_id,
        computed_years.fiscal_year,
        'original' as basis
    from computed_years
    inner join revised_strategies
        on computed_years.strategy_id = revised_strategies.strategy_id
),

published_years as (
    select distinct
        strategy_id,
        fiscal_year,
        'published' as basis
    from published_kpi_score
    where published_score is not null
),

summary_keys as (
    select
        project_totals.*,
        years.fiscal_year,
        years.basis
    from project_totals
    inner join (
        select * from computed_years
        union all
        select * from original_years
        union all
        select * from published_years
    ) as years
        on project_totals.strategy_id = years.strategy_id
),

aggregated as (
    select
        strategy_id,
        project_no,
        fiscal_year,
        basis,
        count(distinct business_no) as businesses_evaluated,
        count(*) as kpis_evaluated,
        -- scores are DECIMAL(18, 2): x 100 gives an exact integer sum
        sum(cast(score * 100 as hugeint)) as score_hundredths_sum,
        count(*) filter (where band = 'below_baseline') as below_baseline_count,
        count(*) filter (where band = '0-50') as band_0_50_count,
        count(*) filter (where band = '50-100') as band_50_100_count,
        count(*) filter (where band = '100+') as band_100_plus_count,
        count(*) filter (where target_achieved) as target_achieved_count
    from evaluated_scores
    group by strategy_id, project_no, fiscal_year, basis
),

outlook_counts as (
    select
        outlooks.strategy_id,
        kpis.project_no,
        outlooks.as_of_fiscal_year as fiscal_year,
        count(*) filter (where outlooks.outlook_status = 'on_track') as on_track_count,
        count(*) filter (where outlooks.outlook_status = 'behind') as behind_count,
        count(*) filter (where outlooks.outlook_status = 'unlikely') as unlikely_count,
        count(*) filter (where outlooks.outlook_status = 'not_enough_data') as not_enough_data_count
    from outlooks
    inner join kpis
        on outlooks.strategy_id = kpis.strategy_id
        and outlooks.kpi_id = kpis.kpi_id
    where outlooks.evaluated
    group by all
),

method_bands as (
    -- which of Otaru's band ids the strategy's method has
    select
        strategy_id,
        bool_or(band = 'below_baseline') as has_below_baseline,
        bool_or(band = '0-50') as has_0_50,
        bool_or(band = '50-100') as has_50_100,
        bool_or(band = '100+') as has_100_plus
    from bands
    group by strategy_id
),

final as (
    select
        summary_keys.strategy_id,
        summary_keys.project_no,
        summary_keys.project_name,
        cast(summary_keys.fiscal_year as integer) as fiscal_year,
        summary_keys.basis,
        cast(summary_keys.businesses_total as integer) as businesses_total,
        cast(summary_keys.kpis_total as integer) as kpis_total,
        cast(coalesce(aggregated.businesses_evaluated, 0) as integer) as businesses_evaluated,
        cast(coalesce(aggregated.kpis_evaluated, 0) as integer) as kpis_evaluated,
        -- mean in units of 10^-places: sum x 10^places / (count x 100)
        case when methods.rollup = 'mean' then
            to_score(
                divide_rounded(
                    aggregated.score_hundredths_sum * cast(10 ** methods.average_decimal_places as hugeint),
                    cast(aggregated.kpis_evaluated as hugeint) * 100,
                    methods.average_rounding
                ),
                methods.average_decimal_places
            )
        end as average_score,
        case when method_bands.has_below_baseline then
            cast(coalesce(aggregated.below_baseline_count, 0) as integer)
        end as below_baseline_count,
        case when method_bands.has_0_50 then
            cast(coalesce(aggregated.band_0_50_count, 0) as integer)
        end as band_0_50_count,
        case when method_bands.has_50_100 then
            cast(coalesce(aggregated.band_50_100_count, 0) as integer)
        end as band_50_100_count,
        case when method_bands.has_100_plus then
            cast(coalesce(aggregated.band_100_plus_count, 0) as integer)
        end as band_100_plus_count,
        cast(coalesce(aggregated.target_achieved_count, 0) as integer) as target_achieved_count,
        cast(coalesce(outlook_counts.on_track_count, 0) as integer) as on_track_count,
        cast(coalesce(outlook_counts.behind_count, 0) as integer) as behind_count,
        cast(coalesce(outlook_counts.unlikely_count, 0) as integer) as unlikely_count,
        cast(coalesce(outlook_counts.not_enough_data_count, 0) as integer) as not_enough_data_count
    from summary_keys
    inner join methods
        on summary_keys.strategy_id = methods.strategy_id
    left join method_bands
        on summary_keys.strategy_id = method_bands.strategy_id
    left join outlook_counts
        on summary_keys.strategy_id = outlook_counts.strategy_id
        and summary_keys.project_no = outlook_counts.project_no
        and summary_keys.fiscal_year = outlook_counts.fiscal_year
    left join aggregated
        on summary_keys.strategy_id = aggregated.strategy_id
        and summary_keys.project_no = aggregated.project_no
        and summary_keys.fiscal_year = aggregated.fiscal_year
        and summary_keys.basis = aggregated.basis
)

select * from final
order by strategy_id, project_no, fiscal_year, basis
