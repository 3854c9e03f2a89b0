"""The office portal: upload, check, submit, and what an office owes (`pcve serve`)."""
