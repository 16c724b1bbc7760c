"""Instructor analytics: what a class knows, in figures, charts and CSV files.

Everything is computed from the rows the companion already keeps, for the members of the
instructor's own server or workspace only (`roster.py`), read in read transactions (`store.read`:
no write lock) of a few hundred students each, so the database's one thread serves other
requests in between, with the per-student work, the numerical work and the drawing done off the
event loop (`asyncio.to_thread`), so a live quiz in another channel never waits long on a chart.

- `roster.py`: who is in the class, and each member's state per chapter, read in bulk and
  summarised by the same function `/progress` uses (so "best score" means one thing);
- `class_overview.py`: the class at a glance, the funnel and the activity by day;
- `page_reach.py`: how many readers reach each lesson page at each depth;
- `item_analysis.py`: facility, discrimination, option shares and Cronbach's alpha, as Moodle's
  quiz statistics define them;
- `gradebook.py`: the CSV files of `/course export`;
- `analytics_charts.py`: the instructor's charts; `progress_card.py`: a student's card;
- `reports.py`: the commands themselves (`/course stats`, `/course stats chapter N`,
  `/course question ID`, `/course export`), each gated by the core's instructor check.
"""
