-- Rehabilitation rows of the current submissions only.
with source as (
    select * from {{ source('raw', 'rehabilitation') }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where form = 'rehabilitation' and is_present
),

renamed as (
    select
        {{ form_row_id('source') }} as rehabilitation_row_id,
        source.submission_id,
        source.sheet as sheet_name,
        cast(source.row_number as integer) as source_row_number,
        current_forms.office_code,
        current_forms.period_id as submission_period_id,
        source.kato,
        cast(source.month as date) as month_start,
        source.provider,
        cast(source.enrolled_new as bigint) as enrolled_new,
        cast(source.rehabilitated as bigint) as rehabilitated,
        cast(source.withdrawn as bigint) as withdrawn
    from source
    inner join current_forms
        on source.submission_id = current_forms.submission_id
)

select * from renamed
