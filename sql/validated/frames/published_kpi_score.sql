-- validation frame published_kpi_score: one row per published KPI score, with
-- the strategy period.
create or replace temp view validation_frame_published_kpi_score as
select
    row_number() over (order by score.strategy_id, score.kpi_id, score.fiscal_year) - 1 as row_id,
    score.strategy_id,
    score.kpi_id,
    score.fiscal_year,
    strategy.first_fiscal_year,
    strategy.last_fiscal_year,
    'published_kpi_score' as "table",
    score.strategy_id || ' ' || score.kpi_id || ' FY' || score.fiscal_year as record_key,
    score.source_file,
    score.source_line,
    null::varchar as source_column,
    score.fiscal_year::varchar as value_text
from published_kpi_score as score
left join strategy on score.strategy_id = strategy.strategy_id;
