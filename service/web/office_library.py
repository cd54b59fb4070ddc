"""The office's library work: finding enterprises and recording their consent, importing the
enterprise and project libraries, importing qualification lists and reviewing their
matches, publishing library releases."""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from service.core.errors import Unprocessable
from service.core.pagination import PageParams
from service.enterprises import import_service
from service.enterprises import service as enterprises
from service.enterprises.models import RowAction
from service.enterprises.schemas import EnterpriseUpdate
from service.leads import lifecycle as leads
from service.lists import publishing
from service.lists import service as lists
from service.lists.models import Match
from service.loans import service as loans
from service.matching import recommendations
from service.metrics import library_search
from service.taxonomy import service as taxonomy
from service.web import library, library_import, list_upload, uploads
from service.web.forms import FormReader
from service.web.pages import (
    PREFIX,
    Id,
    SessionDep,
    bank_names,
    echo_form,
    first_page,
    needs_of,
    page_router,
    place_names,
    qualification_names,
    render,
    see_other,
)
from service.web.security import Form, OfficeUser, Visitor

router = page_router()


PER_PAGE = 50


def _enterprises_page(
    request: Request,
    session: Session,
    who: Visitor,
    search: library_search.LibrarySearch | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    cursor: str | None = None,
) -> HTMLResponse:
    search = search or library_search.LibrarySearch()
    found: library_search.LibraryPage | None = None
    if search.any():
        page = PageParams(limit=PER_PAGE, cursor=cursor)
        found = library_search.search_library(session, who.principal, search, page)
    args = [
        (k, v)
        for k, v in (
            ("name", search.name),
            ("credit_code", search.credit_code),
            ("district", search.district),
            ("cluster", search.cluster),
            ("qualification", search.qualification),
        )
        if v
    ]
    return render(
        request,
        "office/enterprises.html",
        who,
        status,
        search=search,
        found=found,
        first=cursor is None,
        search_args=urlencode(args),
        names=place_names(session),
        qualifications=qualification_names(session),
        kinds=library_import.KINDS,
        values=values or {},
        errors=errors or {},
        max_upload=uploads.file_limit(),
    )


def _known(value: str | None, known: dict[str, str]) -> str | None:
    """A choice of a list kept only when it is one of the list (a forged one is no filter)."""
    return value if value in known else None


@router.get("/office/enterprises")
def office_enterprises(
    request: Request,
    session: SessionDep,
    who: OfficeUser,
    name: Annotated[str | None, Query(max_length=100)] = None,
    credit_code: Annotated[str | None, Query(max_length=18)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    cluster: Annotated[str | None, Query(max_length=32)] = None,
    qualification: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Find enterprises by name, credit code, district, cluster and qualification held, a
    page at a time with the total found."""
    places = place_names(session)
    search = library_search.LibrarySearch(
        name=(name or "").strip() or None,
        credit_code=(credit_code or "").strip().upper() or None,
        district=_known(district, places["district"]),
        cluster=_known(cluster, places["cluster"]),
        qualification=_known(qualification, qualification_names(session)),
    )
    return _enterprises_page(request, session, who, search, cursor=cursor or None)


@router.post("/office/enterprises/imports")
def office_import_library(
    request: Request, session: SessionDep, who: OfficeUser, upload: uploads.Posted
) -> Response:
    """An enterprise or project library file uploaded through the page: the API's preview,
    then its page."""
    done = library_import.preview(session, who.principal, upload)
    if done.record is not None:
        return see_other(f"{PREFIX}/office/enterprises/imports/{done.record.id}")
    values = {"kind": str(upload.fields.get("kind") or "")}
    return _enterprises_page(request, session, who, None, values, done.errors, done.status)


@router.get("/office/enterprises/imports/{import_id:int}")
def office_library_import(
    request: Request, session: SessionDep, who: OfficeUser, import_id: Id
) -> Response:
    record = import_service.read_any_import(session, who.principal, import_id)
    names = place_names(session)
    words = library_import.Words(names, qualification_names(session))
    return render(
        request,
        "office/library_import.html",
        who,
        record=record,
        library=library_import.KINDS[record.kind],
        counts=library_import.count_lines(record.applied or record.counts),
        rejected=library_import.rows(session, who.principal, record, RowAction.rejected),
        updated=library_import.rows(session, who.principal, record, RowAction.update),
        created=library_import.rows(session, who.principal, record, RowAction.create),
        warned=library_import.rows(session, who.principal, record, warned=True),
        words=words,
        shown=library_import.SHOWN,
    )


@router.post("/office/enterprises/imports/{import_id:int}/commit")
def office_commit_library_import(
    session: SessionDep, who: OfficeUser, import_id: Id, _: Form
) -> Response:
    record = import_service.read_any_import(session, who.principal, import_id)
    import_service.commit_import(session, who.principal, record.kind, import_id)
    return see_other(f"{PREFIX}/office/enterprises/imports/{import_id}?committed=1")


@router.get("/office/enterprises/{enterprise_id:int}")
def office_enterprise(
    request: Request, session: SessionDep, who: OfficeUser, enterprise_id: Id
) -> Response:
    return _office_enterprise_page(request, session, who, enterprise_id)


@router.post("/office/enterprises/{enterprise_id:int}/consent")
def office_enterprise_consent(
    request: Request, session: SessionDep, who: OfficeUser, enterprise_id: Id, fields: Form
) -> Response:
    """The office records the enterprise's choice from its signed 入库申报 form."""
    form = FormReader(fields)
    given = form.choice("given", ("yes", "no"), required=True)
    form_ref = form.text("form_ref", 100, required=True)
    signed_on = form.day("signed_on", required=True)
    version = form.integer("version", 1, 2_147_483_647)
    data = EnterpriseUpdate(
        share_with_banks=given == "yes", consent_form_ref=form_ref, consent_form_signed_on=signed_on
    )
    done = form.run(
        lambda: enterprises.update_enterprise(session, enterprise_id, data, version, who.principal),
        session.rollback,
    )
    if done is not None:
        return see_other(f"{PREFIX}/office/enterprises/{enterprise_id}?consent=1")
    error = "；".join(dict.fromkeys(form.errors.values()))
    return _office_enterprise_page(
        request, session, who, enterprise_id, echo_form(fields), error, form.status
    )


def _office_enterprise_page(
    request: Request,
    session: Session,
    who: Visitor,
    enterprise_id: int,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    profile = enterprises.enterprise_public(
        session, enterprises.read_enterprise(session, enterprise_id, who.principal)
    )
    return render(
        request,
        "office/enterprise.html",
        who,
        status,
        form=form,
        error=error,
        names=place_names(session),
        profile=profile,
        needs=needs_of(session, enterprise_id, who.principal),
        leads=leads.recent_leads(session, who.principal, enterprise_id=enterprise_id),
        banks=bank_names(session),
        loans=first_page(
            lambda p: loans.list_loans(session, who.principal, p, enterprise_id=enterprise_id)
        ),
        recommendations=recommendations.recommend_for_enterprise(
            session, enterprise_id, who.principal
        ),
    )


def _lists_page(
    request: Request,
    session: Session,
    who: Visitor,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    queue = lists.list_entries(
        session, who.principal, PageParams(limit=100, cursor=None), match=Match.review, pending=True
    )
    imports = lists.list_imports(session, who.principal, PageParams(limit=20, cursor=None))
    types = qualification_names(session)
    return render(
        request,
        "office/lists.html",
        who,
        status,
        entries=queue.items,
        imports=imports.items,
        qualification_names=types,
        values=values or {},
        errors=errors or {},
        max_upload=uploads.file_limit(),
    )


@router.get("/office/lists")
def office_lists(request: Request, session: SessionDep, who: OfficeUser) -> Response:
    return _lists_page(request, session, who)


@router.post("/office/lists/imports")
def office_import_list(
    request: Request, session: SessionDep, who: OfficeUser, upload: list_upload.ListUpload
) -> Response:
    """A list file uploaded through the page: the API's preview, then its page."""
    types = [t.code for t in taxonomy.list_qualification_types(session)]
    done = list_upload.preview(session, who.principal, upload, types)
    if done.record is not None:
        again = "?duplicate=1" if done.duplicate else ""
        return see_other(f"{PREFIX}/office/lists/imports/{done.record.id}{again}")
    values = list_upload.echo(upload.fields)
    return _lists_page(request, session, who, values, done.errors, done.status)


@router.get("/office/lists/imports/{import_id:int}")
def office_list_import(
    request: Request, session: SessionDep, who: OfficeUser, import_id: Id
) -> Response:
    record = lists.read_import(session, who.principal, import_id)
    types = qualification_names(session)
    return render(
        request,
        "office/list_import.html",
        who,
        record=record,
        type_name=types.get(record.qualification_type, "未知资质"),
        counts=list_upload.count_lines(record),
        rejected=list_upload.rejected_rows(session, who.principal, import_id),
    )


@router.post("/office/lists/imports/{import_id:int}/commit")
def office_commit_import(session: SessionDep, who: OfficeUser, import_id: Id, _: Form) -> Response:
    lists.commit_import(session, who.principal, import_id)
    return see_other(f"{PREFIX}/office/lists?committed={import_id}")


@router.post("/office/lists/entries/{entry_id:int}/confirm")
def office_confirm(session: SessionDep, who: OfficeUser, entry_id: Id, fields: Form) -> Response:
    form = FormReader(fields)
    enterprise_id = form.integer("enterprise_id", 1, 2_147_483_647, required=True)
    version = form.integer("version", 1, 2_147_483_647)
    if form.errors or enterprise_id is None:
        raise Unprocessable("请选择要确认的候选企业。", code="missing_candidate")
    lists.confirm(session, who.principal, entry_id, enterprise_id, version)
    return see_other(f"{PREFIX}/office/lists?confirmed={entry_id}")


@router.post("/office/lists/entries/{entry_id:int}/reject")
def office_reject(session: SessionDep, who: OfficeUser, entry_id: Id, fields: Form) -> Response:
    version = FormReader(fields).integer("version", 1, 2_147_483_647)
    lists.reject(session, who.principal, entry_id, version)
    return see_other(f"{PREFIX}/office/lists?rejected={entry_id}")


@router.get("/office/releases")
def office_releases(request: Request, session: SessionDep, who: OfficeUser) -> Response:
    found = library.office_releases(session, who.principal)
    return render(
        request,
        "office/releases.html",
        who,
        releases=found.items,
        more=found.next_cursor is not None,
        tiers=library.tiers_in_words(),
    )


@router.post("/office/releases")
def office_publish(session: SessionDep, who: OfficeUser, fields: Form) -> Response:
    note = FormReader(fields).text("note", 200)
    release = publishing.publish(session, who.principal, note)
    return see_other(f"{PREFIX}/office/releases?published={release.number}")
