"""Video uploads (docs/api.md, "Catalog"): a presigned PUT; processing starts when the file lands."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api import security
from api.params import PathId
from api.responses import created
from api.routes.video.models import VideoUploadRequest, VideoUploadTicket
from lms.blobs import S3BlobStore
from lms.entities import Role
from lms.settings import get_settings
from lms.table import Table
from lms.video import playback, records

router = APIGatewayRouter()


@router.post(
    "/lessons/<lessonId>/video",
    tags=["catalog"],
    summary="A presigned upload URL for the lesson's video (owner or admin); the upload starts processing",
)
@security.allow(Role.INSTRUCTOR, Role.ADMIN)
def request_video_upload(lessonId: PathId, body: VideoUploadRequest) -> Response[VideoUploadTicket]:  # noqa: N803
    table = Table()
    ticket = records.request_upload(
        table,
        S3BlobStore(get_settings().bucket_name),
        security.authenticated(router, table).principal,
        lessonId,
        content_type=body.content_type,
        content_length=body.content_length,
    )
    return created(
        VideoUploadTicket(
            upload_url=ticket.upload_url,
            key=ticket.key,
            expires_in=ticket.expires_in,
            upload_id=ticket.upload_id,
        )
    )


def api_base(router: APIGatewayRouter) -> str:
    """This API's base URL as the caller reached it (scheme, host and any stage prefix)."""
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    scheme = headers.get("x-forwarded-proto", "http")
    full_path = str(event.request_context.path or event.path)
    return f"{scheme}://{headers.get('host', 'localhost')}{full_path.removesuffix(event.path)}"


@router.get(
    "/videos/<lessonId>/<uploadId>/<playlist>",
    tags=["catalog"],
    summary="An HLS playlist of a lesson's video, every URL in it signed (from a lesson's videoUrl)",
)
@security.public  # the expiring signature in the query is the credential, as in a presigned URL
def video_playlist(
    lessonId: PathId,  # noqa: N803
    uploadId: PathId,  # noqa: N803
    playlist: Annotated[str, Path(max_length=16, pattern=r"^(master|[0-9]{2,4}p)$")],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(min_length=64, max_length=64, pattern=r"^[0-9a-f]+$")],
) -> Response[str]:
    text = playback.signed_playlist(
        S3BlobStore(get_settings().bucket_name),
        lessonId,
        uploadId,
        playlist,
        expires=expires,
        signature=signature,
    )
    return Response(
        status_code=200,
        content_type="application/vnd.apple.mpegurl",
        body=text,
        headers={"Cache-Control": "private, max-age=60"},
    )
