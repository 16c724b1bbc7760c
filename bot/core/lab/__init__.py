"""The RLHF lab's maths: the class's reward model (`reward_model`, over `features`), its refits off
the event loop (`trainer`), best-of-n against a divergence penalty (`optimize`) and its charts
(`lab_charts`). No database and no replies here: the lab feature uses these."""
