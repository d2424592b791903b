"""The obvious alternatives ektp-opt is measured against (issue 8): the textbook monolithic CP-SAT
model and the first-come-first-served queue offices really ran. Neither is used to make plans."""
