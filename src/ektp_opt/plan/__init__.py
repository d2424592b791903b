"""The plan folder (SPEC.md, "Output: a plan folder"): its files and columns (``files``), writing
(``write``), reading (``read``), the indexed view the analyses use (``view``) and the objective
values measured on a plan (``metrics``)."""
