"""Dealers (经销商): the distributors who supply stores and deliver the orders reps take."""
