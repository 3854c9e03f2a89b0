-- Commission meetings of the current submissions only (office-wide: kato is the office root).
with source as (
    select * from {{ source('raw', 'commission') }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where form = 'commission' and is_present
),

renamed as (
    select
        {{ form_row_id('source') }} as meeting_id,
        source.submission_id,
        source.sheet as sheet_name,
        cast(source.row_number as integer) as source_row_number,
        current_forms.office_code,
        current_forms.period_id as submission_period_id,
        source.kato,
        cast(source.meeting_date as date) as meeting_date,
        source.body,
        source.chair,
        cast(source.agenda_items as bigint) as agenda_items,
        cast(source.tasks_assigned as bigint) as tasks_assigned
    from source
    inner join current_forms
        on source.submission_id = current_forms.submission_id
)

select * from renamed
