-- strategy_comparison: one row per pair of strategies in the file
-- (strategy_id < other_strategy_id), saying whether their scores and band
-- counts can be set side by side. Scores compare only when both methods use
-- the same formula for each direction, the same yardstick, maintain
-- tolerance, clamp and rounding; band counts compare only when the band
-- bounds, the score they judge and the 目標達成 threshold agree. Labels and
-- marks do not matter: 順調 and A over the same bounds count the same KPIs.
-- differences names each parameter that differs; reason_ja and reason_en say
-- it in words, and are null for a comparable pair.

with

methods as (
    select * from evaluation_method
),

bands as (
    select * from score_band
),

strategies as (
    select * from strategy
),

band_bounds as (
    -- the bounds as one text per strategy, lowest band first, e.g. '..50|50..80|80..100|100..'
    select
        strategy_id,
        string_agg(
            coalesce(cast(lower_bound as varchar), '') || '..' || coalesce(cast(upper_bound as varchar), ''),
            '|' order by band_order
        ) as bounds
    from bands
    group by strategy_id
),

method_profiles as (
    select
        methods.*,
        band_bounds.bounds
    from methods
    inner join band_bounds
        on methods.strategy_id = band_bounds.strategy_id
),

pairs as (
    select
        left_side.strategy_id,
        right_side.strategy_id as other_strategy_id,
        list_filter(
            [
                case when left_side.formula_up <> right_side.formula_up then 'formula_up' end,
                case when left_side.formula_down <> right_side.formula_down then 'formula_down' end,
                case when left_side.formula_maintain <> right_side.formula_maintain then 'formula_maintain' end,
                case when left_side.yardstick <> right_side.yardstick then 'yardstick' end,
                case when left_side.maintain_tolerance <> right_side.maintain_tolerance then 'maintain_tolerance' end,
                case when left_side.clamp_min is distinct from right_side.clamp_min then 'clamp_min' end,
                case when left_side.clamp_max is distinct from right_side.clamp_max then 'clamp_max' end,
                case when left_side.rounding <> right_side.rounding then 'rounding' end,
                case when left_side.decimal_places <> right_side.decimal_places then 'decimal_places' end
            ],
            lambda name: name is not null
        ) as score_differences,
        list_filter(
            [
                case when left_side.bounds <> right_side.bounds then 'bands' end,
                case when left_side.bands_judged_on <> right_side.bands_judged_on then 'bands_judged_on' end,
                case
                    when left_side.target_achieved_threshold <> right_side.target_achieved_threshold
                        then 'target_achieved_threshold'
                end
            ],
            lambda name: name is not null
        ) as band_differences
    from method_profiles as left_side
    inner join method_profiles as right_side
        on left_side.strategy_id < right_side.strategy_id
),

final as (
    select
        pairs.strategy_id,
        pairs.other_strategy_id,
        len(pairs.score_differences) = 0 as scores_comparable,
        len(pairs.band_differences) = 0 as bands_comparable,
        len(pairs.score_differences) = 0 and len(pairs.band_differences) = 0 as comparable,
        list_concat(pairs.score_differences, pairs.band_differences) as differences,
        case
            when len(list_concat(pairs.score_differences, pairs.band_differences)) > 0 then
                '評価方法が違うため比べられません: '
                || array_to_string(
                    list_transform(
                        list_concat(pairs.score_differences, pairs.band_differences),
                        -- the parameter's Japanese name
                        lambda parameter: (map {
                            'formula_up': '↗の計算式',
                            'formula_down': '↘の計算式',
                            'formula_maintain': '→の計算式',
                            'yardstick': '比べる値(目標値・期待値・直線)',
                            'maintain_tolerance': '維持の許容幅',
                            'clamp_min': 'スコアの下限',
                            'clamp_max': 'スコアの上限',
                            'rounding': '端数処理',
                            'decimal_places': 'スコアの桁数',
                            'bands': '評価区分の境界',
                            'bands_judged_on': '区分を決めるスコア',
                            'target_achieved_threshold': '目標達成の基準'
                        })[parameter]
                    ),
                    '、'
                )
        end as reason_ja,
        case
            when len(list_concat(pairs.score_differences, pairs.band_differences)) > 0 then
                'the methods differ in '
                || array_to_string(list_concat(pairs.score_differences, pairs.band_differences), ', ')
                || ', so their figures are not comparable'
        end as reason_en
    from pairs
)

select * from final
order by strategy_id, other_strategy_id
