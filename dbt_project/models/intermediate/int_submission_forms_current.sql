-- Which submission is current (docs/ARCHITECTURE.md): for each office, submission period and form,
-- the accepted submission with the highest seq among those listing the form in submission_forms.
-- A workbook lists every form, so a newer workbook replaces them all (is_present = false withdraws
-- a form it omits); a CSV lists only its own form, so it replaces only that one. Rejected,
-- duplicate and voided submissions never count.
with submissions as (
    select * from {{ ref('stg_submissions__submissions') }}
    where status = 'accepted'
),

submission_forms as (
    select * from {{ ref('stg_submissions__submission_forms') }}
),

claims as (
    select
        submissions.office_code,
        submissions.period_id,
        submissions.period_kind,
        submission_forms.form,
        submissions.submission_id,
        submissions.submission_seq,
        submissions.submission_scope,
        submission_forms.is_present,
        submission_forms.row_count,
        row_number() over (
            partition by submissions.office_code, submissions.period_id, submission_forms.form
            order by submissions.submission_seq desc
        ) as recency_rank
    from submissions
    inner join submission_forms
        on submissions.submission_id = submission_forms.submission_id
),

current_claims as (
    select
        office_code,
        period_id,
        period_kind,
        form,
        submission_id,
        submission_seq,
        submission_scope,
        is_present,
        row_count
    from claims
    where recency_rank = 1
)

select * from current_claims
