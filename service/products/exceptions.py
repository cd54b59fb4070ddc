"""Errors of the bank and product catalogue."""

from service.core.errors import Conflict, NotFound, Unprocessable


class BankNotFound(NotFound):
    code = "bank_not_found"


class ProductNotFound(NotFound):
    code = "product_not_found"


class DuplicateBank(Conflict):
    code = "duplicate_bank"


class DuplicateProduct(Conflict):
    code = "duplicate_product"


class InvalidProduct(Unprocessable):
    code = "invalid_product"
