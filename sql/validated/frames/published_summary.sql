-- validation frame published_summary: one row per published project summary
-- line, with the strategy period.
create or replace temp view validation_frame_published_summary as
select
    row_number() over (order by summary.strategy_id, summary.project_no, summary.fiscal_year) - 1 as row_id,
    summary.strategy_id,
    summary.project_no,
    summary.fiscal_year,
    strategy.first_fiscal_year,
    strategy.last_fiscal_year,
    'published_summary' as "table",
    summary.strategy_id || ' (' || summary.project_no || ') FY' || summary.fiscal_year as record_key,
    summary.source_file,
    summary.source_line,
    null::varchar as source_column,
    summary.fiscal_year::varchar as value_text
from published_summary as summary
left join strategy on summary.strategy_id = strategy.strategy_id;
