"""The class RLHF lab: students write demonstrations, rank responses and train a reward model together.

The maths: the class's reward model (`reward_model`, over `features`), its refits off the event
loop (`trainer`), best-of-n against a divergence penalty (`optimize`) and its charts
(`lab_charts`), with no database and no replies. The feature: the content (`lab_content`), the
class's pool and pairs (`pool`), the tasks (`tasks`, `ranking`, `flags`), the board, the live lab
(`live_lab`), the reports (`reward_report`) and the export (`lab_export`), held by `class_lab`."""
