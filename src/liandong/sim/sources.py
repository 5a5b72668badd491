"""Where each audit threshold comes from. The report cites these next to every check.

Where a rule gives a number (30 people and 3 levels; 30% of own sales; 50,000 yuan), the check uses it as written.
Where a source names a concern without a number (the FTC on recruitment and on who earns; the Sybil-proofness
papers), the threshold is this project's and says so (``project``); ``docs/audit.md`` explains each one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    short: str
    title: str
    says: str


SOURCES: dict[str, Source] = {
    "anti_pyramid_art7": Source(
        "禁止传销条例 Art. 7",
        "《禁止传销条例》(State Council Decree No. 444, 2005), Article 7",
        "Three forms of pyramid selling: (1) 拉人头 — paying by the number of people a member recruits, directly or "
        "indirectly; (2) 入门费 — requiring a fee, or a purchase in disguise of one, to join or to recruit; "
        "(3) 团队计酬 — paying on the sales of a member's downline, in a multi-level organisation.",
    ),
    "opinion_2013": Source(
        "2013 opinion (3 levels / 30 people)",
        "最高人民法院、最高人民检察院、公安部《关于办理组织领导传销活动刑事案件适用法律若干问题的意见》(2013)",
        "Organisers and leaders of pyramid selling are prosecuted when the organisation counts 30 or more "
        "participants in 3 or more levels.",
    ),
    "direct_selling_art24": Source(
        "直销管理条例 Art. 24",
        "《直销管理条例》(State Council Decree No. 443, 2005), Article 24",
        "A direct seller may be paid only on the sales it makes itself to consumers, and all its pay (commissions, "
        "bonuses, any reward) may not exceed 30% of those sales.",
    ),
    "samr_blind_box_2023": Source(
        "SAMR blind box guideline (2023)",
        "国家市场监督管理总局《盲盒经营行为规范指引（试行）》(2023)",
        "Sellers of blind boxes publish the prizes, their values and the odds of drawing them, keep the published "
        "rules, and protect minors (no sales to children under 8; guardians' consent for older minors).",
    ),
    "aucl_prize_cap": Source(
        "Anti-Unfair Competition Law: 50,000 yuan prize cap",
        "《反不正当竞争法》(2019 text), Article 10(3)",
        "A prize sale by lottery whose largest prize is worth more than 50,000 yuan is prohibited.",
    ),
    "ftc_2018": Source(
        "FTC MLM guidance (2018)",
        "US Federal Trade Commission, Business Guidance Concerning Multi-Level Marketing (January 2018)",
        "Pay should be driven by sales to real customers, not by recruiting or by participants' own purchases to "
        "qualify for rewards; what matters is how much participants actually earn after what they spend.",
    ),
    "emek_2011": Source(
        "Emek et al. (EC 2011)",
        "Y. Emek, R. Karidi, M. Tennenholtz, A. Zohar. Mechanisms for Multi-Level Marketing. ACM EC 2011",
        "A referral reward scheme should be Sybil-proof: a member must not earn more by splitting into fake "
        "identities (in a chain or side by side) than by taking part once.",
    ),
    "drucker_2012": Source(
        "Drucker and Fleischer (EC 2012)",
        "F. Drucker, L. Fleischer. Simpler Sybil-Proof Mechanisms for Multi-Level Marketing. ACM EC 2012",
        "Simple geometric reward schemes can be made Sybil-proof; rewards that grow with position or that a member "
        "can collect twice through fake identities cannot.",
    ),
    "project": Source(
        "project threshold",
        "Liandong's own threshold (docs/audit.md)",
        "No rule gives a number for this figure; the threshold is this project's, stated with its reason.",
    ),
}
