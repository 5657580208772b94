-- score_discrepancy: one row per published figure that the pipeline's own
-- recomputation does not support. Published figures stay as printed in
-- published_kpi_score and published_summary; this table only lists them.
--   raw_score, score:          |published - recomputed| > 0.005 for one KPI and year
--   band_mark:                 the printed mark (× ● ○ ◎) is not the band of the
--                              printed raw score
--   target_achieved_mark:      ☆ printed or not, against printed raw score >= threshold
--   score_not_published:       a recomputed score but no printed one (also for KPIs
--                              excluded on purpose: exclusion_reason says so)
--   published_without_actual:  a printed score but no actual value to recompute it
--   summary:                   one field of a printed project summary line that
--                              differs from project_summary (basis 'published'),
--                              which is recomputed from the printed scores
-- difference is recomputed - published (as in the reports' discrepancy sheet).

with

scores as (
    select * from kpi_score
),

published as (
    select * from published_kpi_score
),

kpis as (
    select * from kpi
),

bands as (
    select * from score_band
),

methods as (
    select * from evaluation_method
),

published_lines as (
    select * from published_summary
),

summaries_from_published_scores as (
    select * from project_summary
    where basis = 'published'
),

-- only fiscal years that the strategy published scores for are compared
published_years as (
    select distinct
        strategy_id,
        fiscal_year
    from published
),

-- one row per KPI and year that has a recomputed or a printed score
score_pairs as (
    select
        coalesce(published.strategy_id, scores.strategy_id) as strategy_id,
        coalesce(published.kpi_id, scores.kpi_id) as kpi_id,
        coalesce(published.fiscal_year, scores.fiscal_year) as fiscal_year,
        scores.raw_score,
        scores.score,
        published.published_raw_score,
        published.published_score,
        published.published_band,
        published.published_target_achieved,
        published.source_file,
        published.source_line
    from published
    full outer join scores
        on published.strategy_id = scores.strategy_id
        and published.kpi_id = scores.kpi_id
        and published.fiscal_year = scores.fiscal_year
    inner join published_years
        on coalesce(published.strategy_id, scores.strategy_id) = published_years.strategy_id
        and coalesce(published.fiscal_year, scores.fiscal_year) = published_years.fiscal_year
),

with_kpi as (
    select
        score_pairs.*,
        kpis.project_no,
        kpis.evaluated,
        kpis.exclusion_reason,
        coalesce(score_pairs.source_file, kpis.source_file) as row_source_file,
        coalesce(score_pairs.source_line, kpis.source_line) as row_source_line
    from score_pairs
    inner join kpis
        on score_pairs.strategy_id = kpis.strategy_id
        and score_pairs.kpi_id = kpis.kpi_id
),

-- the band and ☆ that the printed raw score itself calls for
printed_raw_bands as (
    select
        with_kpi.strategy_id,
        with_kpi.kpi_id,
        with_kpi.fiscal_year,
        bands.band as band_of_printed_raw,
        with_kpi.published_raw_score >= methods.target_achieved_threshold as achieved_by_printed_raw
    from with_kpi
    inner join methods
        on with_kpi.strategy_id = methods.strategy_id
    left join bands
        on with_kpi.strategy_id = bands.strategy_id
        and (bands.lower_bound is null or with_kpi.published_raw_score >= bands.lower_bound)
        and (bands.upper_bound is null or with_kpi.published_raw_score < bands.upper_bound)
    where with_kpi.published_raw_score is not null
),

kpi_discrepancies as (
    select
        strategy_id, fiscal_year, 'raw_score' as discrepancy, kpi_id, project_no,
        'raw_score' as field, published_raw_score as published_value, raw_score as recomputed_value,
        evaluated, exclusion_reason, row_source_file, row_source_line
    from with_kpi
    -- 0.005: half a unit of the printed second decimal
    where abs(published_raw_score - raw_score) > 0.005

    union all

    select
        strategy_id, fiscal_year, 'score', kpi_id, project_no,
        'score', published_score, score,
        evaluated, exclusion_reason, row_source_file, row_source_line
    from with_kpi
    where abs(published_score - score) > 0.005

    union all

    select
        strategy_id, fiscal_year, 'score_not_published', kpi_id, project_no,
        'score', null, score,
        evaluated, exclusion_reason, row_source_file, row_source_line
    from with_kpi
    where score is not null
        and published_score is null

    union all

    select
        strategy_id, fiscal_year, 'published_without_actual', kpi_id, project_no,
        'score', published_score, null,
        evaluated, exclusion_reason, row_source_file, row_source_line
    from with_kpi
    where published_score is not null
        and raw_score is null
),

mark_discrepancies as (
    select
        with_kpi.strategy_id,
        with_kpi.fiscal_year,
        'band_mark' as discrepancy,
        with_kpi.kpi_id,
        with_kpi.project_no,
        'band' as field,
        with_kpi.published_band as published_text,
        printed_raw_bands.band_of_printed_raw as recomputed_text,
        with_kpi.evaluated,
        with_kpi.exclusion_reason,
        with_kpi.row_source_file,
        with_kpi.row_source_line
    from with_kpi
    inner join printed_raw_bands
        on with_kpi.strategy_id = printed_raw_bands.strategy_id
        and with_kpi.kpi_id = printed_raw_bands.kpi_id
        and with_kpi.fiscal_year = printed_raw_bands.fiscal_year
    where with_kpi.published_band is distinct from printed_raw_bands.band_of_printed_raw

    union all

    select
        with_kpi.strategy_id,
        with_kpi.fiscal_year,
        'target_achieved_mark',
        with_kpi.kpi_id,
        with_kpi.project_no,
        'target_achieved',
        cast(with_kpi.published_target_achieved as varchar),
        cast(printed_raw_bands.achieved_by_printed_raw as varchar),
        with_kpi.evaluated,
        with_kpi.exclusion_reason,
        with_kpi.row_source_file,
        with_kpi.row_source_line
    from with_kpi
    inner join printed_raw_bands
        on with_kpi.strategy_id = printed_raw_bands.strategy_id
        and with_kpi.kpi_id = printed_raw_bands.kpi_id
        and with_kpi.fiscal_year = printed_raw_bands.fiscal_year
    where with_kpi.published_target_achieved is distinct from printed_raw_bands.achieved_by_printed_raw
),

-- every field of a summary line, as (field, value) pairs in DECIMAL(18, 2)
printed_fields as (
    unpivot (
        select
            strategy_id,
            project_no,
            fiscal_year,
            source_file,
            source_line,
            cast(businesses_evaluated as decimal(18, 2)) as businesses_evaluated,
            cast(kpis_evaluated as decimal(18, 2)) as kpis_evaluated,
            cast(businesses_total as decimal(18, 2)) as businesses_total,
            cast(kpis_total as decimal(18, 2)) as kpis_total,
            cast(average_score as decimal(18, 2)) as average_score,
            cast(below_baseline_count as decimal(18, 2)) as below_baseline_count,
            cast(band_0_50_count as decimal(18, 2)) as band_0_50_count,
            cast(band_50_100_count as decimal(18, 2)) as band_50_100_count,
            cast(band_100_plus_count as decimal(18, 2)) as band_100_plus_count,
            cast(target_achieved_count as decimal(18, 2)) as target_achieved_count
        from published_lines
    )
    on businesses_evaluated, kpis_evaluated, businesses_total, kpis_total, average_score,
        below_baseline_count, band_0_50_count, band_50_100_count, band_100_plus_count,
        target_achieved_count
    into name field value published_value
),

recomputed_fields as (
    unpivot (
        select
            strategy_id,
            project_no,
            fiscal_year,
            cast(businesses_evaluated as decimal(18, 2)) as businesses_evaluated,
            cast(kpis_evaluated as decimal(18, 2)) as kpis_evaluated,
            cast(businesses_total as decimal(18, 2)) as businesses_total,
            cast(kpis_total as decimal(18, 2)) as kpis_total,
            cast(average_score as decimal(18, 2)) as average_score,
            cast(below_baseline_count as decimal(18, 2)) as below_baseline_count,
            cast(band_0_50_count as decimal(18, 2)) as band_0_50_count,
            cast(band_50_100_count as decimal(18, 2)) as band_50_100_count,
            cast(band_100_plus_count as decimal(18, 2)) as band_100_plus_count,
            cast(target_achieved_count as decimal(18, 2)) as target_achieved_count
        from summaries_from_published_scores
    )
    on businesses_evaluated, kpis_evaluated, businesses_total, kpis_total, average_score,
        below_baseline_count, band_0_50_count, band_50_100_count, band_100_plus_count,
        target_achieved_count
    into name field value recomputed_value
),

summary_discrepancies as (
    select
        printed_fields.strategy_id,
        printed_fields.fiscal_year,
        'summary' as discrepancy,
        null as kpi_id,
        printed_fields.project_no,
        printed_fields.field,
        printed_fields.published_value,
        recomputed_fields.recomputed_value,
        null as evaluated,
        null as exclusion_reason,
        printed_fields.source_file as row_source_file,
        printed_fields.source_line as row_source_line
    from printed_fields
    left join recomputed_fields
        on printed_fields.strategy_id = recomputed_fields.strategy_id
        and printed_fields.project_no = recomputed_fields.project_no
        and printed_fields.fiscal_year = recomputed_fields.fiscal_year
        and printed_fields.field = recomputed_fields.field
    -- counts differ by whole numbers, averages by more than half a printed unit
    where recomputed_fields.recomputed_value is null
        or abs(printed_fields.published_value - recomputed_fields.recomputed_value) > 0.005
),

numeric_discrepancies as (
    select * from kpi_discrepancies
    union all
    select * from summary_discrepancies
),

final as (
    select
        strategy_id,
        fiscal_year,
        discrepancy,
        kpi_id,
        project_no,
        field,
        cast(published_value as decimal(18, 2)) as published_value,
        cast(recomputed_value as decimal(18, 2)) as recomputed_value,
        cast(recomputed_value - published_value as decimal(18, 2)) as difference,
        cast(published_value as varchar) as published_text,
        cast(recomputed_value as varchar) as recomputed_text,
        cast(evaluated as boolean) as evaluated,
        cast(exclusion_reason as varchar) as exclusion_reason,
        row_source_file as source_file,
        row_source_line as source_line
    from numeric_discrepancies

    union all

    select
        strategy_id,
        fiscal_year,
        discrepancy,
        kpi_id,
        project_no,
        field,
        null,
        null,
        null,
        published_text,
        recomputed_text,
        evaluated,
        exclusion_reason,
        row_source_file,
        row_source_line
    from mark_discrepancies
)

select * from final
order by strategy_id, fiscal_year, coalesce(kpi_id, ''), project_no, discrepancy, field
