-- validation frame kpi_cell: one row per baseline, actual or target cell, with
-- its value normalized to the base unit (value x unit_factor) and, for a
-- cumulative KPI, the previous value it must not fall below.
-- Needs the temp tables validation_unit (the known units) and
-- validation_cell_text (unit and note of each baseline and target text), which
-- evaluation/validation/frames.py creates first.
-- A cell without a unit is read in the KPI's unit; an unknown unit has no
-- normalized value. Only a published table writes a unit in every cell, so
-- only there is a bare number unexpected (unit_expected). A KPI master or a
-- submission gives the unit once, in the master's 単位 column. The cells of a KPI are ordered baseline, actuals by fiscal
-- year, target: the order a cumulative figure must not decrease in (the target
-- is left out of that comparison).
create or replace temp view validation_frame_kpi_cell as
with

kpis as (
    select
        -- one number per kpi row, so that a KPI written twice keeps two sets of cells
        row_number() over (order by kpi.strategy_id, kpi.kpi_id, kpi.source_file, kpi.source_line) as kpi_index,
        kpi.strategy_id,
        kpi.kpi_id,
        kpi.kpi_name,
        kpi.unit as kpi_unit,
        kpi.cumulative,
        kpi.baseline_fiscal_year,
        kpi.baseline_value,
        kpi.baseline_text,
        kpi.target_fiscal_year,
        kpi.target_value,
        kpi.target_text,
        kpi.source_file,
        kpi.source_line,
        strategy.first_fiscal_year,
        strategy.last_fiscal_year,
        kpi_unit_known.kind as unit_kind,
        kpi_unit_known.factor as kpi_unit_factor,
        kpi_unit_known.unit is not null as kpi_unit_is_known
    from kpi
    left join strategy on kpi.strategy_id = strategy.strategy_id
    left join validation_unit as kpi_unit_known on kpi_unit_known.unit = coalesce(kpi.unit, '')
),

cells as (
    select
        kpis.kpi_index,
        kpis.strategy_id,
        kpis.kpi_id,
        'baseline' as cell_role,
        0 as role_order,
        kpis.baseline_fiscal_year as fiscal_year,
        kpis.baseline_value as value,
        cell_text.unit,
        cell_text.note,
        'kpi' as "table",
        kpis.source_file,
        null::varchar as source_sheet,
        kpis.source_line,
        '基準値' as source_column,
        kpis.baseline_text as value_text
    from kpis
    left join validation_cell_text as cell_text on cell_text.text = kpis.baseline_text

    union all

    select
        kpis.kpi_index,
        kpis.strategy_id,
        kpis.kpi_id,
        'target',
        2,
        kpis.target_fiscal_year,
        kpis.target_value,
        cell_text.unit,
        cell_text.note,
        'kpi',
        kpis.source_file,
        null,
        kpis.source_line,
        '目標値',
        kpis.target_text
    from kpis
    left join validation_cell_text as cell_text on cell_text.text = kpis.target_text

    union all

    -- an actual comes from its own file (a submission or a published table), not the master's
    select
        kpis.kpi_index,
        kpi_value.strategy_id,
        kpi_value.kpi_id,
        'actual',
        1,
        kpi_value.fiscal_year,
        case when kpi_value.value_status = 'reported' then kpi_value.value end,
        kpi_value.unit,
        kpi_value.note,
        'kpi_value',
        kpi_value.source_file,
        kpi_value.source_sheet,
        kpi_value.source_line,
        kpi_value.source_column::varchar,
        kpi_value.value_text
    from kpi_value
    inner join kpis on kpi_value.strategy_id = kpis.strategy_id and kpi_value.kpi_id = kpis.kpi_id
),

normalized as (
    select
        cells.*,
        kpis.kpi_name,
        kpis.kpi_unit,
        kpis.cumulative,
        kpis.unit_kind,
        kpis.first_fiscal_year,
        kpis.last_fiscal_year,
        cells.value is not null as has_value,
        cells.value is not null and kpis.kpi_unit is not null
            and coalesce(source.file_format = 'published_table', false) as unit_expected,
        case
            when coalesce(cells.unit, '') = '' and kpis.kpi_unit_is_known then cells.value::decimal(38, 6) * kpis.kpi_unit_factor
            when coalesce(cells.unit, '') <> '' then cells.value::decimal(38, 6) * own_unit.factor
        end as normalized_value
    from cells
    inner join kpis on cells.kpi_index = kpis.kpi_index
    left join validation_unit as own_unit on own_unit.unit = cells.unit
    left join source_file as source
        on cells.strategy_id = source.strategy_id and cells.source_file = source.source_file
),

ordered as (
    select
        *,
        -- the latest earlier cell (not the target) that has a normalized value
        lag(
            case when normalized_value is not null and cell_role <> 'target'
                 then {'value': normalized_value, 'text': value_text, 'fiscal_year': fiscal_year} end
            ignore nulls
        ) over cells_in_order as previous,
        -- numbered within each KPI: a window over all rows would sort them on one thread
        row_number() over cells_in_order as cell_index
    from normalized
    window cells_in_order as (
        partition by kpi_index order by role_order, fiscal_year, source_line
    )
)

select
    kpi_index * 100000 + cell_index as row_id,
    strategy_id,
    kpi_id,
    kpi_name,
    cell_role,
    fiscal_year,
    unit,
    kpi_unit,
    unit_kind,
    has_value,
    unit_expected,
    normalized_value,
    case when unit_kind = 'count' then normalized_value % 1 end as fraction,
    case when cumulative and cell_role <> 'target' then previous.value end as previous_value,
    case when cumulative and cell_role <> 'target' then previous.text end as previous_text,
    case when cumulative and cell_role <> 'target' then previous.fiscal_year end as previous_fiscal_year,
    first_fiscal_year,
    last_fiscal_year,
    note,
    "table",
    strategy_id || ' ' || kpi_id || ' ' || cell_role || ' FY' || fiscal_year as record_key,
    source_file,
    source_sheet,
    source_line,
    source_column,
    value_text
from ordered;
