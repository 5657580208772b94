-- project_band_count: one row per strategy, project, fiscal year, basis and
-- band of the strategy's method (score_band), with how many evaluated KPIs
-- fall in it. project_summary's four band columns fit Otaru's bands only; this
-- table counts any method's bands (A/B+/B/C, 順調/おおむね順調/努力を要する, …)
-- and is the whole roll-up of a method whose rollup is 'band_counts'.
-- Rows exist for every project_summary row, so a band with no KPI shows 0.
-- The bases and the evaluated KPIs are those of project_summary.

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

summaries as (
    select * from project_summary
),

revised_strategies as (
    select distinct strategy_id from kpi_revision
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

evaluated_bands as (
    select
        strategy_id,
        project_no,
        fiscal_year,
        'computed' as basis,
        band
    from kpi_score
    where evaluated
        and score is not null
    union all
    select
        kpi_score.strategy_id,
        kpi_score.project_no,
        kpi_score.fiscal_year,
        'original' as basis,
        kpi_score.original_band as band
    from kpi_score
    inner join revised_strategies
        on kpi_score.strategy_id = revised_strategies.strategy_id
    where kpi_score.evaluated
        and kpi_score.original_score is not null
    union all
    -- the published basis bands the printed raw score, as project_summary does
    select
        published_kpi_score.strategy_id,
        kpis.project_no,
        published_kpi_score.fiscal_year,
        'published' as basis,
        bands.band
    from published_judged as published_kpi_score
    inner join kpis
        on published_kpi_score.strategy_id = kpis.strategy_id
        and published_kpi_score.kpi_id = kpis.kpi_id
    left join bands
        on published_kpi_score.strategy_id = bands.strategy_id
        -- the printed raw score, or the printed score when the method bands the score as shown
        and (bands.lower_bound is null or published_kpi_score.published_judged_score >= bands.lower_bound)
        and (bands.upper_bound is null or published_kpi_score.published_judged_score < bands.upper_bound)
    where published_kpi_score.published_score is not null
),

counts as (
    select
        strategy_id,
        project_no,
        fiscal_year,
        basis,
        band,
        count(*) as kpi_count
    from evaluated_bands
    group by all
),

final as (
    select
        summaries.strategy_id,
        summaries.project_no,
        summaries.fiscal_year,
        summaries.basis,
        bands.band,
        bands.band_order,
        bands.label_ja,
        bands.mark,
        cast(coalesce(counts.kpi_count, 0) as integer) as kpi_count
    from summaries
    inner join bands
        on summaries.strategy_id = bands.strategy_id
    left join counts
        on summaries.strategy_id = counts.strategy_id
        and summaries.project_no = counts.project_no
        and summaries.fiscal_year = counts.fiscal_year
        and summaries.basis = counts.basis
        and bands.band = counts.band
)

select * from final
order by strategy_id, project_no, fiscal_year, basis, band_order
