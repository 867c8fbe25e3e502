"""Builds Jobicy-shaped RSS documents for tests, item by item, deterministically."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

JOBICY_NS = "https://jobicy.com"


@dataclass(frozen=True)
class Item:
    id: int
    title: str = ""
    company: str = "Acme &amp; Co"
    description: str = "<p>Build things.</p>"
    location: str = "Anywhere"
    job_type: str = "Full Time"
    category: str = "Engineering"
    pub_date: str = "Mon, 23 Nov 2026 06:10:00 +0000"
    extra: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def with_(self, **changes: object) -> Item:
        return replace(self, **changes)  # type: ignore[arg-type]

    def xml(self) -> str:
        title = self.title or f"Job number {self.id}"
        return (
            "<item>"
            f"<title>{title}</title>"
            f"<id>{self.id}</id>"
            f"<link>https://jobicy.com/jobs/{self.id}-job-number-{self.id}</link>"
            f"<pubDate>{self.pub_date}</pubDate>"
            f'<guid isPermaLink="false">https://jobicy.com/?post_type=job_listing&amp;p={self.id}</guid>'
            f"<description><![CDATA[Teaser of job {self.id}]]></description>"
            f"<content:encoded><![CDATA[{self.description}]]></content:encoded>"
            f'<media:content url="https://jobicy.com/logo/{self.id}.png" medium="image" />'
            f"<job_listing:location><![CDATA[{self.location}]]></job_listing:location>"
            f"<job_listing:job_type><![CDATA[{self.job_type}]]></job_listing:job_type>"
            f"<job_listing:category><![CDATA[{self.category}]]></job_listing:category>"
            f"<job_listing:company><![CDATA[{self.company}]]></job_listing:company>"
            f"{self.extra}"
            "</item>"
        )


def rss(items: list[Item] | list[str], title: str = "Remote Jobs &#8211; Jobicy") -> bytes:
    """An RSS 2.0 document with the Jobicy namespaces; items may be Item or raw XML strings."""
    body = "".join(i if isinstance(i, str) else i.xml() for i in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:media="http://search.yahoo.com/mrss/" '
        f'xmlns:job_listing="{JOBICY_NS}"><channel><title>{title}</title>'
        f"<link>https://jobicy.com</link>{body}</channel></rss>"
    ).encode()


def items(ids: range | list[int]) -> list[Item]:
    return [Item(id=i) for i in ids]
