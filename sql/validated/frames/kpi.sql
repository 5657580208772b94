-- validation frame kpi: one row per KPI with its direction, baseline, target and
-- the strategy period, plus the columns the validation messages name.
-- row_id numbers the rows in key order; both validation engines report failing
-- rows by it.
create or replace temp view validation_frame_kpi as
select
    row_number() over (order by kpi.strategy_id, kpi.kpi_id) - 1 as row_id,
    kpi.strategy_id,
    kpi.kpi_id,
    kpi.business_no,
    kpi.kpi_name,
    kpi.unit,
    kpi.direction,
    coalesce(
        case kpi.direction when 'up' then '↗' when 'down' then '↘' when 'maintain' then '→' end,
        kpi.direction
    ) as direction_symbol,
    case kpi.direction
        when 'up' then '以下です(↗ は目標値 > 基準値)'
        when 'down' then '以上です(↘ は目標値 < 基準値)'
        else 'と合いません'
    end as direction_conflict_ja,
    case kpi.direction
        when 'up' then 'is not above'
        when 'down' then 'is not below'
        else 'does not fit'
    end as direction_conflict_en,
    kpi.baseline_value,
    kpi.target_value,
    kpi.baseline_text,
    kpi.target_text,
    kpi.baseline_fiscal_year,
    kpi.target_fiscal_year,
    strategy.first_fiscal_year,
    strategy.last_fiscal_year,
    kpi.notes,
    'kpi' as "table",
    kpi.strategy_id || ' ' || kpi.kpi_id as record_key,
    kpi.source_file,
    kpi.source_line,
    null::varchar as source_column,
    kpi.kpi_name as value_text
from kpi
left join strategy on kpi.strategy_id = strategy.strategy_id;
