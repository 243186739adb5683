from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Logic(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGIC_UNSPECIFIED: _ClassVar[Logic]
    LOGIC_ALL: _ClassVar[Logic]
    LOGIC_ANY: _ClassVar[Logic]
    LOGIC_NOT: _ClassVar[Logic]

class SegmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEGMENT_TYPE_UNSPECIFIED: _ClassVar[SegmentType]
    SEGMENT_TYPE_DYNAMIC: _ClassVar[SegmentType]
    SEGMENT_TYPE_STATIC: _ClassVar[SegmentType]
LOGIC_UNSPECIFIED: Logic
LOGIC_ALL: Logic
LOGIC_ANY: Logic
LOGIC_NOT: Logic
SEGMENT_TYPE_UNSPECIFIED: SegmentType
SEGMENT_TYPE_DYNAMIC: SegmentType
SEGMENT_TYPE_STATIC: SegmentType

class Rule(_message.Message):
    __slots__ = ("json", "text", "node")
    JSON_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    json: str
    text: str
    node: RuleNode
    def __init__(self, json: _Optional[str] = ..., text: _Optional[str] = ..., node: _Optional[_Union[RuleNode, _Mapping]] = ...) -> None: ...

class RuleNode(_message.Message):
    __slots__ = ("logic", "condition", "has_deals", "event", "segment", "children")
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    HAS_DEALS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    logic: Logic
    condition: Condition
    has_deals: HasDeals
    event: EventRule
    segment: SegmentRef
    children: _containers.RepeatedCompositeFieldContainer[RuleNode]
    def __init__(self, logic: _Optional[_Union[Logic, str]] = ..., condition: _Optional[_Union[Condition, _Mapping]] = ..., has_deals: _Optional[_Union[HasDeals, _Mapping]] = ..., event: _Optional[_Union[EventRule, _Mapping]] = ..., segment: _Optional[_Union[SegmentRef, _Mapping]] = ..., children: _Optional[_Iterable[_Union[RuleNode, _Mapping]]] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("field", "op", "value")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    field: str
    op: str
    value: Value
    def __init__(self, field: _Optional[str] = ..., op: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ("string_value", "int_value", "bool_value", "list_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    bool_value: bool
    list_value: ValueList
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ..., list_value: _Optional[_Union[ValueList, _Mapping]] = ...) -> None: ...

class ValueList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[Scalar]
    def __init__(self, values: _Optional[_Iterable[_Union[Scalar, _Mapping]]] = ...) -> None: ...

class Scalar(_message.Message):
    __slots__ = ("string_value", "int_value", "bool_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    bool_value: bool
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ...) -> None: ...

class Cmp(_message.Message):
    __slots__ = ("gte", "gt", "lte", "lt", "eq")
    GTE_FIELD_NUMBER: _ClassVar[int]
    GT_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    LT_FIELD_NUMBER: _ClassVar[int]
    EQ_FIELD_NUMBER: _ClassVar[int]
    gte: int
    gt: int
    lte: int
    lt: int
    eq: int
    def __init__(self, gte: _Optional[int] = ..., gt: _Optional[int] = ..., lte: _Optional[int] = ..., lt: _Optional[int] = ..., eq: _Optional[int] = ...) -> None: ...

class HasDeals(_message.Message):
    __slots__ = ("where", "count")
    WHERE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    where: RuleNode
    count: Cmp
    def __init__(self, where: _Optional[_Union[RuleNode, _Mapping]] = ..., count: _Optional[_Union[Cmp, _Mapping]] = ...) -> None: ...

class EventRule(_message.Message):
    __slots__ = ("type", "campaign", "within", "count")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    WITHIN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    type: str
    campaign: CampaignSelector
    within: Window
    count: Cmp
    def __init__(self, type: _Optional[str] = ..., campaign: _Optional[_Union[CampaignSelector, _Mapping]] = ..., within: _Optional[_Union[Window, _Mapping]] = ..., count: _Optional[_Union[Cmp, _Mapping]] = ...) -> None: ...

class CampaignSelector(_message.Message):
    __slots__ = ("id", "ids", "last")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    id: str
    ids: CampaignIds
    last: CampaignLast
    def __init__(self, id: _Optional[str] = ..., ids: _Optional[_Union[CampaignIds, _Mapping]] = ..., last: _Optional[_Union[CampaignLast, _Mapping]] = ...) -> None: ...

class CampaignIds(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CampaignLast(_message.Message):
    __slots__ = ("n", "match")
    N_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    n: int
    match: str
    def __init__(self, n: _Optional[int] = ..., match: _Optional[str] = ...) -> None: ...

class Window(_message.Message):
    __slots__ = ("last", "since", "between")
    LAST_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    BETWEEN_FIELD_NUMBER: _ClassVar[int]
    last: str
    since: str
    between: TimeRange
    def __init__(self, last: _Optional[str] = ..., since: _Optional[str] = ..., between: _Optional[_Union[TimeRange, _Mapping]] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class SegmentRef(_message.Message):
    __slots__ = ("segment", "ever")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EVER_FIELD_NUMBER: _ClassVar[int]
    segment: str
    ever: bool
    def __init__(self, segment: _Optional[str] = ..., ever: _Optional[bool] = ...) -> None: ...

class CountRequest(_message.Message):
    __slots__ = ("org", "rule", "now", "segment")
    ORG_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    org: str
    rule: Rule
    now: str
    segment: str
    def __init__(self, org: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ..., now: _Optional[str] = ..., segment: _Optional[str] = ...) -> None: ...

class CountResponse(_message.Message):
    __slots__ = ("count", "eval_micros")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    count: int
    eval_micros: int
    def __init__(self, count: _Optional[int] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class CountStreamResponse(_message.Message):
    __slots__ = ("count", "eval_micros", "error_code", "error")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    count: int
    eval_micros: int
    error_code: str
    error: str
    def __init__(self, count: _Optional[int] = ..., eval_micros: _Optional[int] = ..., error_code: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class PreviewRequest(_message.Message):
    __slots__ = ("org", "rule", "now", "limit", "segment")
    ORG_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    org: str
    rule: Rule
    now: str
    limit: int
    segment: str
    def __init__(self, org: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ..., now: _Optional[str] = ..., limit: _Optional[int] = ..., segment: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("id", "name", "email", "company")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    email: str
    company: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., company: _Optional[str] = ...) -> None: ...

class PreviewResponse(_message.Message):
    __slots__ = ("count", "members", "eval_micros")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    count: int
    members: _containers.RepeatedCompositeFieldContainer[Member]
    eval_micros: int
    def __init__(self, count: _Optional[int] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class ResolveRequest(_message.Message):
    __slots__ = ("org", "rule", "now", "packed", "segment")
    ORG_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    org: str
    rule: Rule
    now: str
    packed: bool
    segment: str
    def __init__(self, org: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ..., now: _Optional[str] = ..., packed: _Optional[bool] = ..., segment: _Optional[str] = ...) -> None: ...

class ResolveChunk(_message.Message):
    __slots__ = ("ids", "ids_packed", "total", "eval_micros")
    IDS_FIELD_NUMBER: _ClassVar[int]
    IDS_PACKED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    ids_packed: bytes
    total: int
    eval_micros: int
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., ids_packed: _Optional[bytes] = ..., total: _Optional[int] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("org", "rule", "now", "cursor", "page_size", "segment")
    ORG_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    org: str
    rule: Rule
    now: str
    cursor: str
    page_size: int
    segment: str
    def __init__(self, org: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ..., now: _Optional[str] = ..., cursor: _Optional[str] = ..., page_size: _Optional[int] = ..., segment: _Optional[str] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("ids", "next_cursor", "eval_micros")
    IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    next_cursor: str
    eval_micros: int
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., next_cursor: _Optional[str] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class IngestRequest(_message.Message):
    __slots__ = ("org", "file", "record", "schema")
    ORG_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    org: str
    file: FileChunk
    record: Record
    schema: SchemaDeclaration
    def __init__(self, org: _Optional[str] = ..., file: _Optional[_Union[FileChunk, _Mapping]] = ..., record: _Optional[_Union[Record, _Mapping]] = ..., schema: _Optional[_Union[SchemaDeclaration, _Mapping]] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("kind", "name", "format", "data")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    format: str
    data: bytes
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., format: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("kind", "op", "json")
    KIND_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    op: str
    json: str
    def __init__(self, kind: _Optional[str] = ..., op: _Optional[str] = ..., json: _Optional[str] = ...) -> None: ...

class SchemaDeclaration(_message.Message):
    __slots__ = ("custom_fields",)
    class CustomFieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOM_FIELDS_FIELD_NUMBER: _ClassVar[int]
    custom_fields: _containers.ScalarMap[str, str]
    def __init__(self, custom_fields: _Optional[_Mapping[str, str]] = ...) -> None: ...

class KindCounts(_message.Message):
    __slots__ = ("upserted", "patched", "deleted")
    UPSERTED_FIELD_NUMBER: _ClassVar[int]
    PATCHED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    upserted: int
    patched: int
    deleted: int
    def __init__(self, upserted: _Optional[int] = ..., patched: _Optional[int] = ..., deleted: _Optional[int] = ...) -> None: ...

class IngestResponse(_message.Message):
    __slots__ = ("applied", "seconds")
    class AppliedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: KindCounts
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[KindCounts, _Mapping]] = ...) -> None: ...
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    applied: _containers.MessageMap[str, KindCounts]
    seconds: float
    def __init__(self, applied: _Optional[_Mapping[str, KindCounts]] = ..., seconds: _Optional[float] = ...) -> None: ...

class ParseRuleRequest(_message.Message):
    __slots__ = ("rule", "org")
    RULE_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    org: str
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ..., org: _Optional[str] = ...) -> None: ...

class ParseRuleResponse(_message.Message):
    __slots__ = ("json", "text", "node")
    JSON_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    json: str
    text: str
    node: RuleNode
    def __init__(self, json: _Optional[str] = ..., text: _Optional[str] = ..., node: _Optional[_Union[RuleNode, _Mapping]] = ...) -> None: ...

class TranslateRequest(_message.Message):
    __slots__ = ("org", "sentence", "now", "offline")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FIELD_NUMBER: _ClassVar[int]
    org: str
    sentence: str
    now: str
    offline: bool
    def __init__(self, org: _Optional[str] = ..., sentence: _Optional[str] = ..., now: _Optional[str] = ..., offline: _Optional[bool] = ...) -> None: ...

class Phrase(_message.Message):
    __slots__ = ("text", "start", "end")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    text: str
    start: int
    end: int
    def __init__(self, text: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Ambiguity(_message.Message):
    __slots__ = ("phrase", "chosen", "alternatives")
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    phrase: Phrase
    chosen: str
    alternatives: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, phrase: _Optional[_Union[Phrase, _Mapping]] = ..., chosen: _Optional[str] = ..., alternatives: _Optional[_Iterable[str]] = ...) -> None: ...

class TranslateResponse(_message.Message):
    __slots__ = ("json", "text", "node", "count", "not_understood", "ambiguities", "notes", "rejected", "translator", "eval_micros")
    JSON_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NOT_UNDERSTOOD_FIELD_NUMBER: _ClassVar[int]
    AMBIGUITIES_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    TRANSLATOR_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    json: str
    text: str
    node: RuleNode
    count: int
    not_understood: _containers.RepeatedCompositeFieldContainer[Phrase]
    ambiguities: _containers.RepeatedCompositeFieldContainer[Ambiguity]
    notes: _containers.RepeatedScalarFieldContainer[str]
    rejected: _containers.RepeatedScalarFieldContainer[str]
    translator: str
    eval_micros: int
    def __init__(self, json: _Optional[str] = ..., text: _Optional[str] = ..., node: _Optional[_Union[RuleNode, _Mapping]] = ..., count: _Optional[int] = ..., not_understood: _Optional[_Iterable[_Union[Phrase, _Mapping]]] = ..., ambiguities: _Optional[_Iterable[_Union[Ambiguity, _Mapping]]] = ..., notes: _Optional[_Iterable[str]] = ..., rejected: _Optional[_Iterable[str]] = ..., translator: _Optional[str] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("id", "name", "description", "type", "rule_json", "rule_text", "archived", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RULE_JSON_FIELD_NUMBER: _ClassVar[int]
    RULE_TEXT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    type: SegmentType
    rule_json: str
    rule_text: str
    archived: bool
    created_at: str
    updated_at: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., type: _Optional[_Union[SegmentType, str]] = ..., rule_json: _Optional[str] = ..., rule_text: _Optional[str] = ..., archived: _Optional[bool] = ..., created_at: _Optional[str] = ..., updated_at: _Optional[str] = ...) -> None: ...

class CreateSegmentRequest(_message.Message):
    __slots__ = ("org", "name", "description", "rule", "members")
    ORG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    org: str
    name: str
    description: str
    rule: Rule
    members: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ..., members: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateSegmentResponse(_message.Message):
    __slots__ = ("segment", "members")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    members: MembersResponse
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ..., members: _Optional[_Union[MembersResponse, _Mapping]] = ...) -> None: ...

class GetSegmentRequest(_message.Message):
    __slots__ = ("org", "segment")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ...) -> None: ...

class ListSegmentsRequest(_message.Message):
    __slots__ = ("org", "include_archived")
    ORG_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    org: str
    include_archived: bool
    def __init__(self, org: _Optional[str] = ..., include_archived: _Optional[bool] = ...) -> None: ...

class ListSegmentsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class UpdateSegmentRequest(_message.Message):
    __slots__ = ("org", "segment", "name", "description", "rule")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    name: str
    description: str
    rule: Rule
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ...) -> None: ...

class DuplicateSegmentRequest(_message.Message):
    __slots__ = ("org", "segment", "name")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    name: str
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ArchiveSegmentRequest(_message.Message):
    __slots__ = ("org", "segment", "unarchive")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    UNARCHIVE_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    unarchive: bool
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., unarchive: _Optional[bool] = ...) -> None: ...

class DeleteSegmentRequest(_message.Message):
    __slots__ = ("org", "segment")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ...) -> None: ...

class DeleteSegmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddMembersRequest(_message.Message):
    __slots__ = ("org", "segment", "ids")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveMembersRequest(_message.Message):
    __slots__ = ("org", "segment", "ids")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MembersResponse(_message.Message):
    __slots__ = ("changed", "unchanged", "unknown", "unknown_count")
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_COUNT_FIELD_NUMBER: _ClassVar[int]
    changed: int
    unchanged: int
    unknown: _containers.RepeatedScalarFieldContainer[str]
    unknown_count: int
    def __init__(self, changed: _Optional[int] = ..., unchanged: _Optional[int] = ..., unknown: _Optional[_Iterable[str]] = ..., unknown_count: _Optional[int] = ...) -> None: ...

class UpsertSegmentsByNameRequest(_message.Message):
    __slots__ = ("org", "names")
    ORG_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    org: str
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org: _Optional[str] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class UpsertSegmentsByNameResponse(_message.Message):
    __slots__ = ("ids", "created")
    IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    created: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., created: _Optional[_Iterable[bool]] = ...) -> None: ...

class ExportToListRequest(_message.Message):
    __slots__ = ("org", "segment", "name", "now")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    name: str
    now: str
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., name: _Optional[str] = ..., now: _Optional[str] = ...) -> None: ...

class ExportToListResponse(_message.Message):
    __slots__ = ("segment", "count", "eval_micros")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    count: int
    eval_micros: int
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ..., count: _Optional[int] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class ExportMembersCsvRequest(_message.Message):
    __slots__ = ("org", "segment", "rule", "now")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    rule: Rule
    now: str
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., rule: _Optional[_Union[Rule, _Mapping]] = ..., now: _Optional[str] = ...) -> None: ...

class CsvChunk(_message.Message):
    __slots__ = ("data", "total", "eval_micros")
    DATA_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    EVAL_MICROS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    total: int
    eval_micros: int
    def __init__(self, data: _Optional[bytes] = ..., total: _Optional[int] = ..., eval_micros: _Optional[int] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("org", "since", "follow")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    org: str
    since: int
    follow: bool
    def __init__(self, org: _Optional[str] = ..., since: _Optional[int] = ..., follow: _Optional[bool] = ...) -> None: ...

class WatchResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ChangeEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[ChangeEvent, _Mapping]]] = ...) -> None: ...

class ChangeEvent(_message.Message):
    __slots__ = ("seq", "type", "segment_id", "segment", "contact_id", "at", "cause")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    type: str
    segment_id: str
    segment: str
    contact_id: str
    at: str
    cause: str
    def __init__(self, seq: _Optional[int] = ..., type: _Optional[str] = ..., segment_id: _Optional[str] = ..., segment: _Optional[str] = ..., contact_id: _Optional[str] = ..., at: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class AddWebhookRequest(_message.Message):
    __slots__ = ("org", "url", "secret", "segments", "since")
    ORG_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    org: str
    url: str
    secret: str
    segments: _containers.RepeatedScalarFieldContainer[str]
    since: int
    def __init__(self, org: _Optional[str] = ..., url: _Optional[str] = ..., secret: _Optional[str] = ..., segments: _Optional[_Iterable[str]] = ..., since: _Optional[int] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ("id", "url", "segment_ids", "segment_names", "created_at", "delivered_seq", "last_seq", "last_error", "failures")
    ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_NAMES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    id: str
    url: str
    segment_ids: _containers.RepeatedScalarFieldContainer[str]
    segment_names: _containers.RepeatedScalarFieldContainer[str]
    created_at: str
    delivered_seq: int
    last_seq: int
    last_error: str
    failures: int
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., segment_ids: _Optional[_Iterable[str]] = ..., segment_names: _Optional[_Iterable[str]] = ..., created_at: _Optional[str] = ..., delivered_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., last_error: _Optional[str] = ..., failures: _Optional[int] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ("org",)
    ORG_FIELD_NUMBER: _ClassVar[int]
    org: str
    def __init__(self, org: _Optional[str] = ...) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ("webhooks",)
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    def __init__(self, webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("org", "id")
    ORG_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    org: str
    id: str
    def __init__(self, org: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MembershipAtRequest(_message.Message):
    __slots__ = ("org", "segment", "at")
    ORG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    org: str
    segment: str
    at: str
    def __init__(self, org: _Optional[str] = ..., segment: _Optional[str] = ..., at: _Optional[str] = ...) -> None: ...

class MembershipAtResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServerInfoResponse(_message.Message):
    __slots__ = ("pid", "worker", "workers", "primary", "version")
    PID_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    pid: int
    worker: int
    workers: int
    primary: bool
    version: str
    def __init__(self, pid: _Optional[int] = ..., worker: _Optional[int] = ..., workers: _Optional[int] = ..., primary: _Optional[bool] = ..., version: _Optional[str] = ...) -> None: ...
