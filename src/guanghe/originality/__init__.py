"""Original protection: fingerprints of works (PDQ hashes of cover and frames, MinHash of
text), a multi-index-hashing search index, first-publisher attribution, and claims, disputes
and reviews resolved by operators. Other capabilities exclude duplicates with
:func:`duplicate_work_ids`.
"""

from guanghe.originality.attribution import OriginalityCheck, check_originality
from guanghe.originality.backfill import (
    BACKFILL_BATCH,
    BackfillBatch,
    backfill_works,
    count_unindexed,
    register_works,
)
from guanghe.originality.cases import (
    AttributionView,
    CaseView,
    CopyView,
    DecisionView,
    duplicate_work_ids,
    file_claim,
    file_dispute,
    list_cases,
    recent_copies,
    resolve_case,
    work_attribution,
)
from guanghe.originality.images import (
    DecodedUpload,
    DecodeSlots,
    Picture,
    decode_picture,
    decode_upload,
)
from guanghe.originality.publishing import (
    PublishedWork,
    WorkDraft,
    check_metadata,
    check_uploader,
    parse_hashtags,
    publish_work,
)
from guanghe.originality.registry import INDEX_FILE, FingerprintIndex

__all__ = [
    "BACKFILL_BATCH",
    "INDEX_FILE",
    "AttributionView",
    "BackfillBatch",
    "CaseView",
    "CopyView",
    "DecisionView",
    "DecodeSlots",
    "DecodedUpload",
    "FingerprintIndex",
    "OriginalityCheck",
    "Picture",
    "PublishedWork",
    "WorkDraft",
    "backfill_works",
    "check_metadata",
    "check_originality",
    "check_uploader",
    "count_unindexed",
    "decode_frames",
    "decode_picture",
    "decode_upload",
    "duplicate_work_ids",
    "file_claim",
    "file_dispute",
    "list_cases",
    "parse_hashtags",
    "publish_work",
    "recent_copies",
    "register_works",
    "resolve_case",
    "work_attribution",
]
