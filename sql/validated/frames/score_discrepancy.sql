-- validation frame score_discrepancy: one row per published figure that the
-- recomputation does not support, with its description for the message.
create or replace temp view validation_frame_score_discrepancy as
with

described as (
    select
        item.*,
        coalesce(
            case item.discrepancy
                when 'raw_score' then '補正前スコア'
                when 'score' then 'スコア'
                when 'band_mark' then '評価区分の記号(公表された補正前スコアから)'
                when 'target_achieved_mark' then '目標達成の記号 ☆(公表された補正前スコアから)'
                when 'score_not_published' then 'スコア(実績値があるのに公表されていない)'
                when 'published_without_actual' then 'スコア(実績値がないのに公表されている)'
                when 'summary' then '集計行'
            end,
            item.discrepancy
        ) as what_ja,
        coalesce(
            case item.discrepancy
                when 'raw_score' then 'raw score'
                when 'score' then 'score'
                when 'band_mark' then 'band mark (from the published raw score)'
                when 'target_achieved_mark' then 'target-achieved mark ☆ (from the published raw score)'
                when 'score_not_published' then 'score (an actual, but no published score)'
                when 'published_without_actual' then 'score (published without an actual)'
                when 'summary' then 'summary line'
            end,
            item.discrepancy
        ) as what_en,
        case when nullif(item.kpi_id, '') is not null then 'KPI ' || item.kpi_id
             else 'プロジェクト(' || item.project_no || ')' end as subject_ja,
        case when nullif(item.kpi_id, '') is not null then 'KPI ' || item.kpi_id
             else 'project (' || item.project_no || ')' end as subject_en,
        case when item.discrepancy = 'summary' then ' ' || coalesce(item.field, 'None') else '' end as field_shown,
        coalesce(nullif(item.published_text, ''), '—') as published_shown,
        coalesce(nullif(item.recomputed_text, ''), '—') as recomputed_shown
    from score_discrepancy as item
)

select
    row_number() over (
        order by strategy_id, fiscal_year, discrepancy, kpi_id, project_no, field
    ) - 1 as row_id,
    strategy_id,
    fiscal_year,
    discrepancy,
    kpi_id,
    project_no,
    field,
    published_text,
    recomputed_text,
    subject_ja || ' ' || fiscal_year || '年度 の' || what_ja || field_shown || ': 公表 ' || published_shown
        || '、再計算 ' || recomputed_shown
        || case when nullif(exclusion_reason, '') is not null then '。集計対象外: ' || exclusion_reason else '' end
        as description_ja,
    subject_en || ' FY' || fiscal_year || ' ' || what_en || field_shown || ': published ' || published_shown
        || ', recomputed ' || recomputed_shown as description_en,
    'score_discrepancy' as "table",
    strategy_id || ' ' || coalesce(nullif(kpi_id, ''), project_no::varchar) || ' FY' || fiscal_year || ' '
        || discrepancy || field_shown as record_key,
    source_file,
    source_line,
    null::varchar as source_column,
    published_text as value_text
from described;
