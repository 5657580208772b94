-- Macros shared by the score and summary queries, created as temporary macros
-- on every connection that runs them.
--
-- DuckDB turns DECIMAL / DECIMAL into DOUBLE, so no score is ever computed with
-- "/": ratios are taken on HUGEINTs scaled from DECIMAL(18, 6) values, and
-- rounded with integer division, which is exact.

-- A DECIMAL(18, 6) value as an integer count of millionths. The cast to
-- DECIMAL(38, 6) first keeps DuckDB from overflowing an 18-digit product.
create or replace temp macro millionths(x) as cast(cast(x as decimal(38, 6)) * 1000000 as hugeint);

-- n / d rounded to an integer: rounding 'half_up' rounds half away from zero
-- (四捨五入, as Excel's ROUND does); 'truncate' rounds toward zero.
create or replace temp macro divide_rounded(n, d, rounding) as
    case
        when d = 0 then null
        else sign(n) * sign(d) * (
            (2 * abs(n) + (case when rounding = 'half_up' then abs(d) else 0 end))
            // (2 * abs(d))
        )
    end;

-- An integer count of 10^-places turned into DECIMAL(18, 2) without a DOUBLE.
create or replace temp macro to_score(q, places) as
    cast(cast(q * cast(10 ** (2 - places) as hugeint) as decimal(18, 2)) * 0.01 as decimal(18, 2));

-- n / d * 100 >= bound, decided exactly; bound is a DECIMAL score threshold.
create or replace temp macro ratio_at_least(n, d, bound) as
    n * 100 * 10000 * sign(d) >= cast(bound * 10000 as hugeint) * abs(d);
