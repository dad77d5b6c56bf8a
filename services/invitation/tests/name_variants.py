"""A made-up set of people met twice, and of different people who look alike, to measure how
well duplicate detection at first contact finds the one and leaves the other (no real person).

Each row: the person as first registered, as met again, and whether it is the same person.
The variants are what coaches meet: transliterations (Latin, Arabic and Cyrillic script),
dropped or doubled letters, given and family names swapped, a missing birth date; the look-alikes
are namesakes with another birth date and different names that sound close.
"""

from __future__ import annotations

from datetime import date

from icam_invitation.domain.matching import Person

D1, D2, D3, D4, D5, D6 = (date(1988, 3, 14), date(1990, 1, 1), date(1979, 7, 30), date(2001, 11, 5),
                          date(1995, 6, 21), date(1983, 2, 9))  # fmt: skip


def p(given: str, family: str, born: date | None = None, nationality: str | None = None) -> Person:
    return Person(None, given, family, born, nationality)


SAME: list[tuple[Person, Person]] = [
    (p("Mohammed", "Ali", D1, "MA"), p("Muhammad", "Ali", D1, "MA")),
    (p("Mohammed", "Ali", D1, "MA"), p("محمد", "علي", D1, "MA")),
    (p("Mohamed", "Benali", D2), p("Mohammed", "Ben Ali", D2)),
    (p("Мухаммед", "Алиев", D3, "RU"), p("Mukhammed", "Aliyev", D3, "RU")),
    (p("Muhammad", "Aliyev", D3), p("Мухаммед", "Алиев", D3)),
    (p("Fatima", "Zahra", D4, "MA"), p("Fatma", "Zahra", D4, "MA")),
    (p("Fatima", "Zahra", D4), p("فاطمة", "زهراء", D4)),
    (p("Youssef", "El Amrani", D5), p("Yusuf", "Elamrani", D5)),
    (p("Ibrahim", "Diallo", D6, "GN"), p("Ebrahim", "Diallo", D6, "GN")),
    (p("Hassan", "Karimi", D1, "AF"), p("Hasan", "Karimi", D1, "AF")),
    (p("Abdullah", "Rahimi", D2, "AF"), p("Abdallah", "Rahimi", D2, "AF")),
    (p("Olga", "Petrenko", D3, "UA"), p("Ольга", "Петренко", D3, "UA")),
    (p("Sergey", "Ivanov", D4), p("Sergei", "Ivanov", D4)),
    (p("Aisha", "Bangura", D5, "SL"), p("Bangura", "Aisha", D5, "SL")),
    (p("Nguyen", "Van An", D6), p("Nguyen", "Van An")),
    (p("Karim", "Haddad", D1), p("Kareem", "Haddad", D1)),
    (p("Omar", "Farouk", D2), p("Umar", "Faruq", D2)),
    (p("Amina", "Example", D3, "MA"), p("Aminah", "Example", D3, "MA")),
    (p("Tariq", "Aziz", D4), p("طارق", "عزيز", D4)),
    (p("Dmitri", "Kuznetsov", D5), p("Дмитрий", "Кузнецов", D5)),
]

DIFFERENT: list[tuple[Person, Person]] = [
    (p("Mohammed", "Ali", D1, "MA"), p("Mahmoud", "Ali", D1, "MA")),
    (p("Mohammed", "Ali", D1, "MA"), p("Mohammed", "Ali", D2, "MA")),
    (p("Amina", "Example", D3), p("Yasmine", "Example", D3)),
    (p("Hassan", "Karimi", D1), p("Hussein", "Karimi", D4)),
    (p("Samir", "Haddad", D2), p("Amir", "Haddad", D5)),
    (p("Ahmed", "Diallo", D6), p("Hamed", "Diallo", D1)),
    (p("Fatima", "Zahra", D4), p("Fatoumata", "Diallo", D4)),
    (p("Ivan", "Petrov", D3), p("Ivana", "Petrova", D5)),
    (p("Ali", "Rahimi", D2), p("Ahmed", "Rahimi", D2)),
    (p("Olga", "Petrenko", D3), p("Oleg", "Petrenko", D6)),
    (p("Youssef", "El Amrani", D5), p("Yousra", "El Amrani", D5)),
    (p("Nguyen", "Van An", D6), p("Nguyen", "Thi Lan", D6)),
    (p("Sergey", "Ivanov", D4), p("Sergey", "Ivanov", D1)),
    (p("Tariq", "Aziz", D4), p("Tarek", "Azzouz", D2)),
    (p("Dmitri", "Kuznetsov", D5), p("Dmitri", "Kovalenko", D5)),
]
