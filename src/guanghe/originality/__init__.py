"""Original protection: fingerprints of works (PDQ hashes of cover and frames, MinHash of
text; PDQ frame hashes over time and Chromaprint sound items of videos, matched by segment),
a multi-index-hashing search index, first-publisher attribution, and claims, disputes
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
from guanghe.originality.media import (
    MediaFingerprint,
    MediaIndex,
    fingerprint_media,
    fingerprint_upload,
)
from guanghe.originality.media_matches import (
    MediaMatchView,
    RootedMatch,
    SharedMusicView,
    list_shared_music,
    mark_shared_music,
    work_matches,
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
from guanghe.originality.segments import SegmentMatch
from guanghe.originality.video import decode_video

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
    "MediaFingerprint",
    "MediaIndex",
    "MediaMatchView",
    "OriginalityCheck",
    "Picture",
    "PublishedWork",
    "RootedMatch",
    "SegmentMatch",
    "SharedMusicView",
    "WorkDraft",
    "backfill_works",
    "check_metadata",
    "check_originality",
    "check_uploader",
    "count_unindexed",
    "decode_frames",
    "decode_picture",
    "decode_upload",
    "decode_video",
    "duplicate_work_ids",
    "file_claim",
    "file_dispute",
    "fingerprint_media",
    "fingerprint_upload",
    "list_cases",
    "list_shared_music",
    "mark_shared_music",
    "parse_hashtags",
    "publish_work",
    "recent_copies",
    "register_works",
    "resolve_case",
    "work_attribution",
    "work_matches",
]
