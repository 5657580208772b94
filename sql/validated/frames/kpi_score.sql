-- validation frame kpi_score: one row per recomputed score, with the actual
-- value's cell for the message.
-- row_id: the strategy's number x 10^9 + the row's number within the strategy,
-- because a window over all rows would sort them on one thread.
create or replace temp view validation_frame_kpi_score as
with

strategies as (
    select strategy_id, row_number() over (order by strategy_id) as strategy_index
    from (select distinct strategy_id from kpi_score)
)

select
    strategies.strategy_index * 1000000000
        + row_number() over (partition by score.strategy_id order by score.kpi_id, score.fiscal_year) as row_id,
    score.strategy_id,
    score.kpi_id,
    score.fiscal_year,
    score.raw_score,
    score.score,
    score.evaluated,
    score.invalid_reason,
    coalesce(
        case score.invalid_reason
            when 'target_equals_baseline' then '目標値が基準値と同じ'
            when 'target_is_zero' then '→ の目標値が 0'
            when 'baseline_missing' then '基準値がない'
            when 'target_missing' then '目標値がない'
        end,
        score.invalid_reason
    ) as invalid_reason_ja,
    -- DECIMAL scores are always finite; the rule guards against a change of column type
    case
        when score.raw_score is null and score.score is null then null
        else coalesce(isfinite(score.raw_score::double), true) and coalesce(isfinite(score.score::double), true)
    end as scores_finite,
    'kpi_score' as "table",
    score.strategy_id || ' ' || score.kpi_id || ' FY' || score.fiscal_year as record_key,
    kpi_value.source_file,
    kpi_value.source_line,
    kpi_value.source_column::varchar as source_column,
    kpi_value.value_text
from kpi_score as score
inner join strategies on score.strategy_id = strategies.strategy_id
left join kpi_value
    on score.strategy_id = kpi_value.strategy_id
    and score.kpi_id = kpi_value.kpi_id
    and score.fiscal_year = kpi_value.fiscal_year;
