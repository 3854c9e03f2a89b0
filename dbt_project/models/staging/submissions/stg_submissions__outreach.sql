-- Outreach rows of every submission, typed (which are current: int_outreach_current).
with source as (
    select * from {{ source('raw', 'outreach') }}
),

renamed as (
    select
        {{ form_lineage_columns('outreach_row_id') }},
        cast(source.month as date) as month_start,
        source.direction,
        cast(source.adherents_new as bigint) as adherents_new,
        cast(source.conversations as bigint) as conversations,
        cast(source.conversations_planned as bigint) as conversations_planned
    from source
)

select * from renamed
