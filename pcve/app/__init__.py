"""The application: the pipeline that joins the stages, the CLI, the Airflow runner, the portal,
the warehouse build and publish. Imports the stages and pcve.core; nothing imports it but dags/."""
