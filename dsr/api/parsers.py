"""The API's JSON parser: DRF's, but strict in the ways ``dsr.workflow.inputs.json_parse`` is.

DRF's ``JSONParser`` catches only ``ValueError``, so a body nested a thousand levels deep escaped
as ``RecursionError`` (a 500). Every API view parses JSON through this class
(``DEFAULT_PARSER_CLASSES``); refusals are 400 with the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from dsr.workflow.inputs import InputRejected, json_parse


class StrictJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from None
        try:
            return json_parse(text)
        except InputRejected as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
