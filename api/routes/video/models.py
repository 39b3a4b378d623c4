"""Request and response bodies of the video upload route (docs/api.md, "Catalog")."""

from __future__ import annotations

from pydantic import Field

from api.models import RequestBody, View


class VideoUploadRequest(RequestBody):
    content_type: str = Field(
        min_length=1, max_length=100, examples=["video/mp4"], description="the Content-Type the PUT must send"
    )
    content_length: int = Field(
        ge=1,
        le=100 * 1024**3,
        examples=[52_428_800],
        description="the file's size in bytes: the URL is signed with it, so storage refuses any other size "
        "(and anything above the configured maximum is refused here)",
    )


class VideoUploadTicket(View):
    upload_url: str = Field(description="presigned PUT URL: send the file with the same Content-Type")
    key: str
    expires_in: int = Field(description="seconds the URL stays valid")
    upload_id: str
