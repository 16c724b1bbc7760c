"""The class RLHF lab: students write demonstrations, rank responses and train a reward model together."""
