/** Name pools for reps and prescribers (invented people; any likeness is the law of large numbers). */

// biome-ignore format: ten names a line
export const FIRST_NAMES: readonly string[] = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth',
  'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Christopher', 'Karen',
  'Daniel', 'Lisa', 'Matthew', 'Nancy', 'Anthony', 'Sandra', 'Mark', 'Ashley', 'Steven', 'Emily',
  'Andrew', 'Michelle', 'Kevin', 'Amanda', 'Brian', 'Melissa', 'Priya', 'Wei', 'Carlos', 'Aisha',
  'Hiroshi', 'Olga', 'Mateo', 'Fatima', 'Noah', 'Emma', 'Liam', 'Ava', 'Rahul', 'Mei',
  'Diego', 'Amara', 'Yusuf', 'Sofia', 'Ethan', 'Grace', 'Omar', 'Leila', 'Samuel', 'Chloe',
]

// biome-ignore format: ten names a line
export const LAST_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts',
  'Patel', 'Kim', 'Chen', 'Singh', 'Cohen', 'Rossi', 'Mueller', 'Okafor', 'Silva', 'Novak',
  "O'Brien", 'Kowalski', 'Shah', 'Tanaka', 'Haddad', 'Ivanova', 'Park', 'Gupta', 'Murphy', 'Sullivan',
  'Friedman', 'Goldberg', 'Bianchi', 'Dubois', 'Larsen', 'Nakamura', 'Abdullah', 'Mendoza', 'Castillo', 'Reyes',
]
