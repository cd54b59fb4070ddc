"""HTTP for the enterprise and project libraries: the routes of each resource, in this order
(the OpenAPI document lists them so): enterprises (``enterprise_router``), projects
(``project_router``), and the libraries' imports and exports (``spreadsheet_router``)."""

from fastapi import APIRouter

from service.enterprises import enterprise_router, project_router, spreadsheet_router

router = APIRouter()
router.include_router(enterprise_router.router)
router.include_router(project_router.router)
router.include_router(spreadsheet_router.router)
