"""A fixture corpus for ranking: four Markdown files about one owner, 44 sections, 30 questions.

Each section is short enough to be one passage, so a question's right answer is one passage,
named by (file, heading). The questions are phrased as visitors ask them, not copied from the text.
"""

from __future__ import annotations

from pathlib import Path

FILES: dict[str, dict[str, str]] = {
    "profile.md": {
        "Summary": "Mira Okafor is an independent machine-learning engineer who ships retrieval and search "
        "systems for mid-sized companies. She works remotely from Nairobi.",
        "Education": "Mira holds a PhD in information retrieval from the University of Edinburgh (2017); her "
        "thesis studied query expansion for legal search.",
        "Languages": "She speaks English, Swahili and French, and gives workshops in all three.",
        "Hobbies": "Outside work Mira climbs, mostly bouldering, and keeps a small vegetable garden.",
        "Awards": "Her paper on sparse retrieval won the best short paper prize at ECIR 2019.",
        "Teaching": "Mira taught an evening course on applied statistics at Strathmore University for two years.",
        "Open source": "She maintains rankeval, a Python library for offline evaluation of search rankings, "
        "downloaded about forty thousand times a month.",
        "Writing": "Mira writes a monthly newsletter called Relevance Notes about search quality in practice.",
        "Speaking": "She has spoken at PyCon Africa, Berlin Buzzwords and EuroPython about hybrid search.",
        "Mentoring": "Mira mentors two junior engineers through the Outreachy programme each year.",
        "Values": "She prefers small, measurable improvements over rewrites, and insists on an evaluation "
        "set before any ranking change.",
    },
    "experience.md": {
        "Kestrel Legal": "From 2017 to 2020 Mira led search at Kestrel Legal, where her team rebuilt case-law "
        "search on Elasticsearch and cut the time lawyers spent finding precedents by a third.",
        "Savanna Books": "At Savanna Books (2020-2022) she built the recommendation engine for an online "
        "bookshop using collaborative filtering, which raised basket size by eleven percent.",
        "Freelance since 2022": "Since 2022 Mira has worked independently, usually on two engagements at a time.",
        "Harbor Health": "For Harbor Health she built a triage assistant that retrieves clinical guidelines "
        "for nurses; it runs entirely on the hospital's own servers for privacy.",
        "Quill Insurance": "At Quill Insurance she replaced keyword matching in the claims portal with a "
        "hybrid ranker combining BM25 and dense embeddings.",
        "Tern Logistics": "She audited Tern Logistics' warehouse search and found that tokenisation of SKU "
        "codes broke exact lookups; the fix took a day.",
        "Atlas Museum": "For the Atlas Museum she indexed eighty thousand catalogue records, with multilingual "
        "search across English and French descriptions.",
        "Multi-agent research": "In 2024 she prototyped a multi-agent system in which one agent plans queries "
        "and another checks citations, for a research lab's literature reviews.",
        "Consulting style": "Engagements start with a one-week audit that ends in a written report with "
        "measured baselines.",
        "Team size": "On larger projects she brings in a trusted frontend developer and a data engineer.",
        "References": "Former clients, including Harbor Health's CTO, are happy to give references on request.",
    },
    "services.md": {
        "Search audits": "A fixed-price search audit costs 4,000 EUR and takes one week; it covers relevance, "
        "latency and the evaluation set.",
        "Retrieval-augmented generation": "Mira builds RAG assistants that answer from a company's own "
        "documents with citations, and measures their faithfulness.",
        "Day rate": "Her day rate is 900 EUR, invoiced monthly; discounts apply to non-profits.",
        "Availability": "She is booked until May 2027 and accepts new projects starting in June.",
        "Time zones": "She overlaps comfortably with European working hours and the morning in US Eastern time.",
        "Contracts": "Mira works under a simple services agreement and signs NDAs before an audit begins.",
        "Data privacy": "Client data never leaves the client's cloud account; she works through their VPN.",
        "Training": "She runs two-day team trainings on evaluating search, with exercises on the team's own data.",
        "Maintenance": "After a project she offers a maintenance retainer of two days per month.",
        "Not offered": "She does not take on mobile app development or pure frontend work.",
        "Payment": "Invoices are payable within thirty days by bank transfer or Wise.",
    },
    "tools.md": {
        "Languages and frameworks": "Mira's main language is Python; she uses FastAPI for services and "
        "Rust for performance-critical tokenisers.",
        "Search engines": "She has production experience with Elasticsearch, OpenSearch, Vespa and SQLite FTS5.",
        "Vector databases": "For vectors she has used pgvector, Qdrant and FAISS, and often recommends "
        "pgvector for teams already on PostgreSQL.",
        "Evaluation": "She measures rankings with nDCG, recall at k and mean reciprocal rank, using judged query sets.",
        "Embedding models": "She fine-tunes small sentence-embedding models on client data rather than relying "
        "only on hosted APIs.",
        "Infrastructure": "Deployments run on Kubernetes or plain Docker Compose, whichever the client already has.",
        "Editor": "She writes code in Neovim and keeps her dotfiles public.",
        "Testing": "Every ranking change ships with a regression test over the evaluation set.",
        "Monitoring": "She monitors search quality with click-through dashboards in Grafana.",
        "LLM providers": "She has built on OpenAI, Anthropic and self-hosted Llama models served with vLLM.",
        "Hardware": "Her workstation has one consumer GPU, enough for fine-tuning small models.",
    },
}

# question -> (file, heading) of the passage that answers it
QUESTIONS: dict[str, tuple[str, str]] = {
    "Where did Mira do her PhD?": ("profile.md", "Education"),
    "Which languages does she speak?": ("profile.md", "Languages"),
    "What does she do for fun, any hobbies?": ("profile.md", "Hobbies"),
    "Has she won any prizes or awards?": ("profile.md", "Awards"),
    "Does she maintain an open-source library?": ("profile.md", "Open source"),
    "Is there a newsletter I can subscribe to?": ("profile.md", "Writing"),
    "Which conferences has she spoken at?": ("profile.md", "Speaking"),
    "What did she do at Kestrel Legal?": ("experience.md", "Kestrel Legal"),
    "Tell me about the bookshop recommendation engine": ("experience.md", "Savanna Books"),
    "Has she worked in healthcare, for a hospital?": ("experience.md", "Harbor Health"),
    "What did she build for the insurance company?": ("experience.md", "Quill Insurance"),
    "Did she work on a museum catalogue?": ("experience.md", "Atlas Museum"),
    "Any experience with multi-agent systems?": ("experience.md", "Multi-agent research"),
    "Can I talk to her former clients as references?": ("experience.md", "References"),
    "How much does a search audit cost?": ("services.md", "Search audits"),
    "What is her day rate?": ("services.md", "Day rate"),
    "When is she available for a new project?": ("services.md", "Availability"),
    "Does she sign an NDA?": ("services.md", "Contracts"),
    "Will our data leave our cloud account?": ("services.md", "Data privacy"),
    "Does she offer team trainings?": ("services.md", "Training"),
    "Can she build our mobile app?": ("services.md", "Not offered"),
    "How are invoices paid?": ("services.md", "Payment"),
    "Does she build RAG assistants with citations?": ("services.md", "Retrieval-augmented generation"),
    "Which vector databases has she used?": ("tools.md", "Vector databases"),
    "How does she evaluate ranking quality, which metrics?": ("tools.md", "Evaluation"),
    "Does she fine-tune embedding models?": ("tools.md", "Embedding models"),
    "What editor does she code in?": ("tools.md", "Editor"),
    "Which LLM providers has she built on?": ("tools.md", "LLM providers"),
    "Does she know Elasticsearch or Vespa?": ("tools.md", "Search engines"),
    "Does she work in European time zones?": ("services.md", "Time zones"),
}


def write(directory: Path) -> Path:
    """The corpus as Markdown files under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, sections in FILES.items():
        title = name.removesuffix(".md").capitalize()
        body = "\n\n".join(f"## {heading}\n\n{text}" for heading, text in sections.items())
        (directory / name).write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    return directory
