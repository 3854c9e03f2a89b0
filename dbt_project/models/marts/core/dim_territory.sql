-- Territories as configured now; their history is kept by the snapshot snap_territory.
with territories as (
    select * from {{ ref('stg_config__territories') }}
),

offices as (
    select * from {{ ref('stg_config__offices') }}
),

history as (
    select * from {{ ref('snap_territory') }}
    where dbt_valid_to is null
),

final as (
    select
        territories.kato,
        territories.office_code,
        territories.territory_level,
        territories.parent_kato,
        territories.territory_name_kk,
        territories.territory_name_ru,
        territories.territory_name_en,
        (territories.kato = offices.root_kato) as is_office_root,
        history.dbt_valid_from as valid_from
    from territories
    inner join offices
        on territories.office_code = offices.office_code
    left join history
        on territories.kato = history.kato
)

select * from final
