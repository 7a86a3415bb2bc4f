"""Reference solutions to the notebooks' exercises, one module per notebook (n01.py for 01_...).

Kept out of the notebooks so that static renders (GitHub, nbviewer) do not show them under the
exercises. Each exercise's check cell uses these only while the student's answer is still blank.
"""
