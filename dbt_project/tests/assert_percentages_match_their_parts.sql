-- Every percentage is 100 * numerator / denominator within half a tenth (the rounding): an
-- independent check of the exact half-up arithmetic in macro percent_half_up.
select *
from {{ ref('mart_indicator_values') }}
where unit = 'percent'
    and denominator > 0
    and abs(cast(value as double precision) - 100.0 * numerator / denominator) > 0.0500001
